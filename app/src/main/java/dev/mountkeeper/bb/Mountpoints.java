package dev.mountkeeper.bb;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.MountSpec;
import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * The mountpoints an action's mounts lack in its input root (every Bazel input root lacks proc/
 * and sys/, many tmp/), made before the action and removed after it, newest first, so that the
 * worker finds the input root as it left it. Only what is missing is made, beneath the input root's
 * fd; a component that exists but is no directory (a symlink of the inputs) stops the walk and the
 * mount then fails on it, as it would have without this.
 */
final class Mountpoints implements AutoCloseable {
    /** A path relative to the input root, and whether we made a directory (else an empty file). */
    private record Made(String path, boolean directory) {}

    private final Fd root;
    private final List<Made> made = new ArrayList<>();

    private Mountpoints(Fd root) {
        this.root = root;
    }

    /** Makes the mountpoints {@code mounts} need in {@code root}, plus the directories {@code dirs}. */
    static Mountpoints make(Fd root, List<MountSpec> mounts, List<String> dirs) throws ErrnoException {
        Mountpoints m = new Mountpoints(root);
        try {
            for (MountSpec s : mounts) {
                switch (s) {
                    case MountSpec.Bind b -> m.need(b.dest(), new File(b.source()).isDirectory());
                    case MountSpec.Filesystem f -> m.need(f.dest(), true);
                    case MountSpec.Dev d -> m.need(d.dest(), true);
                    case MountSpec.Provided p -> m.need(p.dest(), true);
                    // Made by the sandbox itself: only removed after, if they were not there before.
                    case MountSpec.Dir d -> m.removeAfter(d.dest(), true);
                    case MountSpec.Symlink l -> m.removeAfter(l.dest(), false);
                }
            }
            for (String d : dirs) m.need(d, true);
            return m;
        } catch (ErrnoException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private void removeAfter(String dest, boolean directory) throws ErrnoException {
        String path = dest.replaceAll("^/+", "");
        try {
            statx(root.get(), path, AT_SYMLINK_NOFOLLOW, STATX_TYPE);
        } catch (ErrnoException e) {
            if (!e.is(Errno.ENOENT)) throw e;
            made.add(new Made(path, directory));
        }
    }

    private void need(String dest, boolean directory) throws ErrnoException {
        String[] names = dest.replaceAll("^/+", "").split("/");
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if (names[i].isEmpty()) continue;
            if (!path.isEmpty()) path.append('/');
            path.append(names[i]);
            boolean last = i == names.length - 1;
            try {
                Statx st = statx(root.get(), path.toString(), AT_SYMLINK_NOFOLLOW, STATX_TYPE);
                if (!st.isDirectory()) return; // the mount names it in its own error
            } catch (ErrnoException e) {
                if (!e.is(Errno.ENOENT)) throw e;
                if (last && !directory) {
                    openat(root.get(), path.toString(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644).close();
                } else {
                    mkdirat(root.get(), path.toString(), 0755);
                }
                made.add(new Made(path.toString(), !last || directory));
            }
        }
    }

    /** Removes what was made; a mountpoint the action filled (it cannot, once mounted over) stays. */
    @Override
    public void close() {
        for (int i = made.size() - 1; i >= 0; i--) {
            Made m = made.get(i);
            try {
                unlinkat(root.get(), m.path(), m.directory() ? AT_REMOVEDIR : 0);
            } catch (ErrnoException e) {
                if (e.is(Errno.ENOENT)) continue; // the sandbox never made it
                System.err.println("mountkeeper bb-runner: could not remove the mountpoint it made: " + e.getMessage());
            }
        }
        made.clear();
    }
}
