package dev.mountkeeper.mount;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import java.io.IOException;
import java.util.List;

/**
 * A resolved mount destination: an O_PATH fd on it, the fd of its parent directory and its name
 * there (for unmounting and verifying later), and its symlink-free path inside the root.
 */
record Target(Fd fd, Fd parent, String name, String path, Statx stat) implements AutoCloseable {
    enum Kind { DIRECTORY, FILE }

    /**
     * Resolves {@code dest} in {@code root}, creating it (and its parents) when missing and
     * {@code create} says so. Refuses magic links, destinations inside procfs or sysfs, the root
     * itself, and a kind that does not match the source.
     */
    static Target resolve(Root root, String dest, Kind kind, boolean create, List<Root.Created> created)
            throws IOException {
        return resolve(root, dest, kind, create, created, false);
    }

    /** With {@code procRoot}, the root directory (inode 1) of a procfs may be the destination. */
    static Target resolve(Root root, String dest, Kind kind, boolean create, List<Root.Created> created, boolean procRoot)
            throws IOException {
        Fd fd = open(root, dest, kind, create, created);
        Fd parent = null;
        try {
            Statx st = Root.stat(fd);
            if (kind == Kind.DIRECTORY && !st.isDirectory()) {
                throw invalid(root, dest, "is a " + st.typeName() + ", not a directory");
            }
            if (kind == Kind.FILE && (st.isDirectory() || st.isSymlink())) {
                throw invalid(root, dest, "is a " + st.typeName() + ", but the source is a file");
            }
            if (!(procRoot && st.isDirectory() && st.inode() == 1 && FileSyscalls.fstatfsType(fd) == PROC_SUPER_MAGIC)) {
                refuseKernelFs(root, dest, fd);
            }
            String path = root.inRootPath(fd, dest);
            if (path.equals("/")) throw invalid(root, dest, "is the root itself");
            parent = openat2(root.fd().get(), SpecPaths.parent(path), O_PATH | O_DIRECTORY, 0,
                    Root.IN_ROOT | RESOLVE_NO_SYMLINKS);
            String name = SpecPaths.name(path);
            Statx viaParent = statx(parent.get(), name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO);
            if (!viaParent.sameFile(st)) {
                throw invalid(root, dest, "changed while it was being resolved");
            }
            return new Target(fd, parent, name, path, st);
        } catch (IOException | RuntimeException e) {
            fd.close();
            if (parent != null) parent.close();
            throw e;
        }
    }

    private static Fd open(Root root, String dest, Kind kind, boolean create, List<Root.Created> created)
            throws IOException {
        try {
            // A file destination is never followed if it is a symlink: it is refused below instead.
            return root.openInRoot(dest, kind == Kind.DIRECTORY ? O_DIRECTORY : O_NOFOLLOW);
        } catch (ErrnoException e) {
            if (e.is(Errno.ELOOP)) throw invalid(root, dest, "goes through a magic link or a symlink loop", e);
            if (e.is(Errno.ENOTDIR)) throw invalid(root, dest, "is not a directory", e);
            if (!e.is(Errno.ENOENT)) throw e;
            if (!create) throw invalid(root, dest, "does not exist", null);
        }
        try {
            if (kind == Kind.DIRECTORY) return root.mkdirAll(dest, 0755, created);
            Fd dir = root.mkdirAll(SpecPaths.parent(dest), 0755, created);
            String name = SpecPaths.name(dest);
            boolean dirOwned = true;
            try {
                refuseKernelFs(root, dest, dir);
                try (Fd f = openat(dir.get(), name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0644)) {
                    created.add(new Root.Created(dir, name, false));
                    dirOwned = false;
                } catch (ErrnoException e) {
                    if (!e.is(Errno.EEXIST)) throw e;
                }
                return openat2(dir.get(), name, O_PATH | O_NOFOLLOW, 0, Root.NO_LINKS);
            } finally {
                if (dirOwned) dir.close();
            }
        } catch (ErrnoException e) {
            if (e.is(Errno.ELOOP) || e.is(Errno.ENOTDIR)) {
                throw invalid(root, dest, "goes through a dangling symbolic link or one swapped in meanwhile", e);
            }
            throw e;
        }
    }

    /** Nothing is mounted over, or created in, procfs and sysfs: only a fresh procfs goes at /proc. */
    private static void refuseKernelFs(Root root, String dest, Fd fd) throws IOException {
        long magic = FileSyscalls.fstatfsType(fd);
        if (magic == PROC_SUPER_MAGIC || magic == SYSFS_MAGIC) {
            throw invalid(root, dest, "lies inside " + (magic == PROC_SUPER_MAGIC ? "procfs" : "sysfs")
                    + ", where nothing may be mounted over the kernel's files");
        }
    }

    static MountException invalid(Root root, String dest, String why) {
        return invalid(root, dest, why, null);
    }

    private static MountException invalid(Root root, String dest, String why, ErrnoException cause) {
        return new MountException(MountException.Reason.INVALID_INPUT,
                "Destination " + Quote.string(root.hostPath(dest)) + " " + why, cause);
    }

    /** The path of the target as a /proc/thread-self/fd path, for the classic mount(2) fallback. */
    String procPath() {
        return "/proc/thread-self/fd/" + fd.get();
    }

    @Override
    public void close() {
        fd.close();
        parent.close();
    }
}
