package dev.mountkeeper.mount;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.MountSyscalls;

/**
 * A provider's mount waiting at its staging place: the entry {@code name} in the staging
 * directory {@code dir} carries mount {@code mountId}, and is a file or a directory as
 * {@code kind} says (checked, never UNSAID here).
 */
public record Staged(Fd dir, String name, MountProvider.Kind kind, long mountId) implements AutoCloseable {
    /**
     * Removes the staging entry: detaches the mount still on it (if it was not moved away), then
     * unlinks a file or removes a directory, as the kind says.
     */
    public void remove() throws ErrnoException {
        try {
            while (true) {
                long top = statx(dir.get(), name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID).mountId();
                long here = fstatx(dir, STATX_MNT_ID).mountId();
                if (top == here) break; // nothing mounted on the entry any more
                MountSyscalls.umount2("/proc/thread-self/fd/" + dir.get() + "/" + name,
                        MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
            }
            try {
                unlinkat(dir.get(), name, kind == MountProvider.Kind.DIRECTORY ? AT_REMOVEDIR : 0);
            } catch (ErrnoException e) {
                // A provider that did not say what it made, and failed: find out by trying the other way.
                if (kind != MountProvider.Kind.UNSAID || !e.is(Errno.EISDIR)) throw e;
                unlinkat(dir.get(), name, AT_REMOVEDIR);
            }
        } catch (ErrnoException e) {
            if (!e.is(Errno.ENOENT)) throw e;
        }
    }

    @Override
    public void close() {
        dir.close();
    }
}
