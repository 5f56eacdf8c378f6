package dev.mountkeeper.sandbox;

import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.SpecPaths;

/** One setup step of a sandbox, applied in order inside its root: later steps go over earlier ones. */
public sealed interface Op {
    /** A mount, directory or symlink in the spec language. */
    record Mount(MountSpec spec) implements Op {}

    /**
     * Detaches what is mounted at {@code dest}, with everything below it, in the sandbox's mount
     * namespace only (the host keeps it); nothing to do when nothing is mounted there. For a root
     * that is the host's: its /proc is of the host's pid namespace, and a procfs of the sandbox's
     * own goes there instead, never over it (nothing is mounted on procfs).
     */
    record Unmount(String dest) implements Op {
        public Unmount {
            dest = SpecPaths.absolute("destination", dest);
        }
    }

    /** A file with the given contents (bubblewrap's --file), created; an existing file is an error. */
    record WriteFile(String dest, byte[] data, int mode) implements Op {
        public WriteFile {
            dest = SpecPaths.absolute("destination", dest);
            data = data.clone();
            if (mode < 0 || mode > 07777) throw new IllegalArgumentException("mode 0" + Integer.toOctalString(mode) + " is out of range");
        }

        @Override
        public byte[] data() { return data.clone(); }
    }
}
