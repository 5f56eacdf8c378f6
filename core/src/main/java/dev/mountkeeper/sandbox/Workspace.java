package dev.mountkeeper.sandbox;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.MountException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where sandboxes are built: a directory of this process's own, made under the temporary
 * directory with a fresh random name (mkdtemp), holding "root" (where a sandbox's root is mounted)
 * and "staging" (where providers mount first). Both are covered only in a sandbox's own mount
 * namespace; on the host they stay empty. A name that anyone could guess in the shared, sticky
 * /tmp could be taken first by another user, and every sandbox would then refuse to start.
 *
 * @param root    the new root's mountpoint
 * @param staging providers' staging place
 */
record Workspace(String root, String staging) {
    private static volatile Workspace current;

    /**
     * This process's workspace, checked (one statx when nothing changed): if a cleaner of /tmp took
     * it away, or it is not ours with mode 0700 any more, a fresh one is made under a new name.
     */
    static Workspace get() throws IOException {
        Workspace w = current;
        if (w != null && ours(w.root())) return w;
        synchronized (Workspace.class) {
            w = current;
            if (w != null && ours(w.root())) return w;
            w = create();
            current = w;
            return w;
        }
    }

    private static Workspace create() throws IOException {
        Path dir;
        try {
            dir = Files.createTempDirectory(".mountkeeper-" + ProcessSyscalls.geteuid() + "-"); // 0700, a name never used before
        } catch (IOException | UnsupportedOperationException e) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to create a private directory for sandboxes in "
                    + Quote.string(System.getProperty("java.io.tmpdir")) + ": " + e.getMessage());
        }
        Workspace w = new Workspace(dir.resolve("root").toString(), dir.resolve("staging").toString());
        try {
            FileSyscalls.mkdirat(FileSyscalls.AT_FDCWD, w.root(), 0700);
            FileSyscalls.mkdirat(FileSyscalls.AT_FDCWD, w.staging(), 0700);
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to create " + Quote.string(w.root()), e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (String p : new String[] {w.root(), w.staging(), dir.toString()}) {
                try {
                    Files.deleteIfExists(Path.of(p));
                } catch (IOException ignored) {
                    // a cleaner of /tmp will take it
                }
            }
        }, "mountkeeper-workspace-cleanup"));
        return w;
    }

    /** A directory (not a symlink) of ours, mode 0700, and so is the one it lies in. */
    private static boolean ours(String path) {
        return ours1(path) && ours1(path.substring(0, path.lastIndexOf('/')));
    }

    private static boolean ours1(String path) {
        try {
            Statx st = FileSyscalls.statx(FileSyscalls.AT_FDCWD, path, FileSyscalls.AT_SYMLINK_NOFOLLOW,
                    FileSyscalls.STATX_TYPE | FileSyscalls.STATX_MODE | FileSyscalls.STATX_UID);
            return st.isDirectory() && st.uid() == ProcessSyscalls.geteuid() && (st.mode() & 077) == 0;
        } catch (ErrnoException e) {
            if (!e.is(Errno.ENOENT) && !e.is(Errno.ENOTDIR)) {
                System.getLogger("mountkeeper.sandbox").log(System.Logger.Level.WARNING, "Cannot check " + Quote.string(path)
                        + ": " + e.getMessage() + "; making a fresh workspace");
            }
            return false;
        }
    }
}
