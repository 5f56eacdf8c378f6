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
 * A directory that paths are resolved in, held as an O_PATH fd. Every lookup goes through
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from this fd, so symlinks resolve inside the
 * root and ".." stops at it, however the tree changes meanwhile. {@code path} is only for messages
 * and for reading the mount table.
 */
public final class Root implements AutoCloseable {
    static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    static final long NO_LINKS = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

    private final Fd fd;
    private final String path;

    private Root(Fd fd, String path) {
        this.fd = fd;
        this.path = path;
    }

    /** Opens the directory at {@code hostPath} (an absolute or cwd-relative path, symlinks followed). */
    public static Root open(String hostPath) throws IOException {
        Fd fd;
        try {
            fd = openat2(AT_FDCWD, hostPath, O_PATH | O_DIRECTORY, 0, 0);
        } catch (ErrnoException e) {
            throw new MountException(e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR) ? MountException.Reason.INVALID_INPUT
                    : MountException.Reason.SYSTEM, "Failed to open root " + Quote.string(hostPath), e);
        }
        try {
            return new Root(fd, FileSyscalls.fdPath(fd));
        } catch (ErrnoException e) {
            fd.close();
            throw e;
        }
    }

    public Fd fd() { return fd; }

    /** The root's path as the kernel reports it from the calling thread's root. */
    public String path() { return path; }

    /** {@code inRoot} (absolute, normalised) as a host path, for messages and the mount table. */
    public String hostPath(String inRoot) {
        String rel = inRoot.startsWith("/") ? inRoot : "/" + inRoot;
        if (path.equals("/")) return rel;
        return rel.equals("/") ? path : path + rel;
    }

    /** The in-root path of a host path, or null when it is not inside this root. */
    public String inRootPath(String hostPath) {
        if (path.equals("/")) return hostPath;
        if (hostPath.equals(path)) return "/";
        return hostPath.startsWith(path + "/") ? hostPath.substring(path.length()) : null;
    }

    /** The in-root path of an open fd, checked to be inside this root. */
    public String inRootPath(Fd f, String forMessage) throws IOException {
        String host = FileSyscalls.fdPath(f);
        String inRoot = inRootPath(host);
        if (inRoot == null) {
            throw new MountException(MountException.Reason.INVALID_INPUT, Quote.string(forMessage)
                    + " resolves to " + Quote.string(host) + ", outside the root " + Quote.string(path));
        }
        return inRoot;
    }

    /** openat2 from the root with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. */
    public Fd openInRoot(String unsafePath, int flags) throws ErrnoException {
        return openat2(fd.get(), unsafePath, O_PATH | flags, 0, IN_ROOT);
    }

    /**
     * Opens the directory {@code unsafePath}, creating what is missing with {@code mode}. Each new
     * directory is made with mkdirat in its parent's fd and reopened without following symlinks,
     * so a directory swapped for a symlink meanwhile is refused, never followed. What was created
     * is appended to {@code created} (in creation order) so a failure can undo it.
     */
    public Fd mkdirAll(String unsafePath, int mode, List<Created> created) throws ErrnoException {
        try {
            return openInRoot(unsafePath, O_DIRECTORY);
        } catch (ErrnoException e) {
            if (!e.is(Errno.ENOENT)) throw e;
        }
        Fd cur = openat2(fd.get(), "/", O_PATH | O_DIRECTORY, 0, IN_ROOT);
        boolean curOwned = true; // false once a Created entry holds it
        try {
            StringBuilder prefix = new StringBuilder();
            for (String name : SpecPaths.components("path", unsafePath)) {
                prefix.append('/').append(name);
                Fd next;
                try {
                    next = openat2(fd.get(), prefix.toString(), O_PATH | O_DIRECTORY, 0, IN_ROOT);
                } catch (ErrnoException e) {
                    if (!e.is(Errno.ENOENT)) throw e;
                    try {
                        mkdirat(cur.get(), name, mode);
                        created.add(new Created(cur, name, true));
                        curOwned = false;
                    } catch (ErrnoException exists) {
                        if (!exists.is(Errno.EEXIST)) throw exists;
                    }
                    next = openat2(cur.get(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, NO_LINKS);
                }
                if (curOwned) cur.close();
                cur = next;
                curOwned = true;
            }
            return cur;
        } catch (ErrnoException e) {
            if (curOwned) cur.close();
            throw e;
        }
    }

    /**
     * Something a mount created in the root: {@code name} in the directory {@code parent}. It holds
     * the parent's fd until {@link #close()} or {@link #undo()}.
     */
    public record Created(Fd parent, String name, boolean directory) implements AutoCloseable {
        /** Removes it again, only if it is still removable (an empty directory, or a file), then closes. */
        void undo() {
            try {
                unlinkat(parent.get(), name, directory ? AT_REMOVEDIR : 0);
            } catch (ErrnoException e) {
                // Not empty, gone, or replaced by something else: no longer ours to remove.
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            if (parent.isOpen()) parent.close();
        }
    }

    static Statx stat(Fd f) throws ErrnoException {
        return FileSyscalls.fstatx(f, STATX_TYPE | STATX_MODE | STATX_INO);
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return path;
    }
}
