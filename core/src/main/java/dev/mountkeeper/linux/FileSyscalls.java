package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/** File and directory calls relative to directory fds: openat2(2), mkdirat(2), statx(2), ... */
public final class FileSyscalls {
    private FileSyscalls() {}

    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int AT_RECURSIVE = 0x8000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    public static final long RESOLVE_NO_XDEV = 0x01;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    public static final long RESOLVE_IN_ROOT = 0x10;

    public static final int STATX_TYPE = 0x1;
    public static final int STATX_MODE = 0x2;
    public static final int STATX_UID = 0x8;
    public static final int STATX_INO = 0x100;
    public static final int STATX_SIZE = 0x200;
    public static final int STATX_BASIC_STATS = 0x7ff;
    public static final int STATX_MNT_ID = 0x1000;
    public static final int STATX_MNT_ID_UNIQUE = 0x4000;

    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;

    public static final long PROC_SUPER_MAGIC = 0x9fa0;
    public static final long SYSFS_MAGIC = 0x62656572;

    private static final long SYS_OPENAT2 = 437;
    private static final long SYS_FACCESSAT2 = 439; // the same number on every architecture

    public static final int R_OK = 4;
    public static final int W_OK = 2;
    public static final int X_OK = 1;
    public static final int AT_EACCESS = 0x200;

    static final Flags OPEN_FLAGS = Flags.of("O_WRONLY", O_WRONLY, "O_RDWR", O_RDWR, "O_CREAT", O_CREAT,
            "O_EXCL", O_EXCL, "O_NOCTTY", O_NOCTTY, "O_TRUNC", O_TRUNC, "O_APPEND", O_APPEND,
            "O_DIRECTORY", O_DIRECTORY, "O_NOFOLLOW", O_NOFOLLOW, "O_CLOEXEC", O_CLOEXEC, "O_PATH", O_PATH);
    static final Flags RESOLVE_FLAGS = Flags.of("RESOLVE_NO_XDEV", RESOLVE_NO_XDEV,
            "RESOLVE_NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_SYMLINKS", RESOLVE_NO_SYMLINKS,
            "RESOLVE_BENEATH", RESOLVE_BENEATH, "RESOLVE_IN_ROOT", RESOLVE_IN_ROOT);
    static final Flags AT_FLAGS = Flags.of("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW,
            "AT_REMOVEDIR", AT_REMOVEDIR, "AT_EMPTY_PATH", AT_EMPTY_PATH, "AT_RECURSIVE", AT_RECURSIVE);
    static final Flags STATX_FLAGS = Flags.of("STATX_BASIC_STATS", STATX_BASIC_STATS,
            "STATX_MNT_ID", STATX_MNT_ID, "STATX_MNT_ID_UNIQUE", STATX_MNT_ID_UNIQUE);

    private static final MethodHandle OPENAT = Native.variadicErrnoCall("openat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
    private static final MethodHandle MKDIRAT = Native.errnoCall("mkdirat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SYMLINKAT = Native.errnoCall("symlinkat",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle MKNODAT = Native.errnoCall("mknodat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCHMODAT = Native.errnoCall("fchmodat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLINKAT = Native.errnoCall("unlinkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RENAMEAT2 = Native.errnoCall("renameat2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READLINKAT = Native.errnoCall("readlinkat",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle STATX = Native.errnoCall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FSTATFS = Native.errnoCall("fstatfs",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CLOSE = Native.errnoCall("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHDIR = Native.errnoCall("fchdir",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /**
     * {@code long openat2(int dirfd, const char *pathname, struct open_how *how, size_t size)},
     * see openat2(2). Always adds O_CLOEXEC: no descriptor of ours may leak into a command.
     */
    public static Fd openat2(int dirfd, String path, int flags, int mode, long resolve) throws ErrnoException {
        int f = flags | O_CLOEXEC;
        return Calls.call((a, cs) -> {
            MemorySegment how = a.allocate(24, 8);
            how.set(JAVA_LONG, 0, f);
            how.set(JAVA_LONG, 8, mode);
            how.set(JAVA_LONG, 16, resolve);
            long r = Native.syscall(cs, SYS_OPENAT2, dirfd, Native.path(a, path).address(), how.address(), 24);
            Calls.check(r, cs, "openat2", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path)
                    + ", {flags=" + OPEN_FLAGS.format(f) + ", mode=0" + Integer.toOctalString(mode)
                    + ", resolve=" + RESOLVE_FLAGS.format(resolve) + "}, 24");
            return Fd.adopt((int) r);
        });
    }

    /** {@code int openat(int dirfd, const char *pathname, int flags, mode_t mode)}, see open(2); adds O_CLOEXEC. */
    public static Fd openat(int dirfd, String path, int flags, int mode) throws ErrnoException {
        int f = flags | O_CLOEXEC;
        return Calls.call((a, cs) -> {
            int r = (int) OPENAT.invokeExact(cs, dirfd, Native.path(a, path), f, mode);
            Calls.check(r, cs, "openat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", "
                    + OPEN_FLAGS.format(f) + ", 0" + Integer.toOctalString(mode));
            return Fd.adopt(r);
        });
    }

    /**
     * {@code int faccessat2(int dirfd, const char *pathname, int mode, int flags)}, see access(2).
     * With AT_EACCESS it checks with the thread's filesystem ids, groups and capabilities as they
     * are (without it, with the real ids). Returns whether access is granted; EACCES and EROFS are
     * a no, any other error is thrown.
     */
    public static boolean faccessat2(int dirfd, String path, int mode, int flags) throws ErrnoException {
        try {
            Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_FACCESSAT2, dirfd, Native.path(a, path).address(),
                    mode, flags), cs, "faccessat2", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", " + mode
                    + ", " + flags));
            return true;
        } catch (ErrnoException e) {
            if (e.is(Errno.EACCES) || e.is(Errno.EROFS)) return false;
            throw e;
        }
    }

    /** {@code int mkdirat(int dirfd, const char *pathname, mode_t mode)}, see mkdir(2). */
    public static void mkdirat(int dirfd, String path, int mode) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) MKDIRAT.invokeExact(cs, dirfd, Native.path(a, path), mode), cs,
                "mkdirat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", 0" + Integer.toOctalString(mode)));
    }

    /** {@code int symlinkat(const char *target, int newdirfd, const char *linkpath)}, see symlink(2). */
    public static void symlinkat(String target, int dirfd, String linkPath) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check(
                (int) SYMLINKAT.invokeExact(cs, Native.path(a, target), dirfd, Native.path(a, linkPath)), cs,
                "symlinkat", () -> Quote.string(target) + ", " + Calls.dirfd(dirfd) + ", " + Quote.string(linkPath)));
    }

    public static final int S_IFCHR = 0020000;

    /**
     * {@code int mknodat(int dirfd, const char *pathname, mode_t mode, dev_t dev)}, see mknod(2),
     * with {@code dev = makedev(major, minor)}.
     */
    public static void mknodat(int dirfd, String path, int mode, int major, int minor) throws ErrnoException {
        long dev = ((long) (major & 0xfffff000) << 32) | ((major & 0xfffL) << 8)
                | ((long) (minor & 0xffffff00) << 12) | (minor & 0xffL);
        Calls.call((a, cs) -> Calls.check((int) MKNODAT.invokeExact(cs, dirfd, Native.path(a, path), mode, dev), cs,
                "mknodat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", 0" + Integer.toOctalString(mode)
                        + ", makedev(" + major + ", " + minor + ")"));
    }

    /** {@code int fchmodat(int dirfd, const char *pathname, mode_t mode, int flags)}, see chmod(2). */
    public static void fchmodat(int dirfd, String path, int mode) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) FCHMODAT.invokeExact(cs, dirfd, Native.path(a, path), mode, 0), cs,
                "fchmodat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", 0" + Integer.toOctalString(mode) + ", 0"));
    }

    /** {@code int unlinkat(int dirfd, const char *pathname, int flags)}, see unlink(2). */
    public static void unlinkat(int dirfd, String path, int flags) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) UNLINKAT.invokeExact(cs, dirfd, Native.path(a, path), flags), cs,
                "unlinkat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", " + AT_FLAGS.format(flags)));
    }

    /**
     * {@code int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
     * unsigned int flags)}, see rename(2).
     */
    public static void renameat2(int oldDirfd, String oldPath, int newDirfd, String newPath, int flags)
            throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) RENAMEAT2.invokeExact(cs, oldDirfd, Native.path(a, oldPath),
                        newDirfd, Native.path(a, newPath), flags), cs,
                "renameat2", () -> Calls.dirfd(oldDirfd) + ", " + Quote.string(oldPath) + ", "
                        + Calls.dirfd(newDirfd) + ", " + Quote.string(newPath) + ", " + flags));
    }

    /** {@code ssize_t readlinkat(int dirfd, const char *pathname, char *buf, size_t bufsiz)}, see readlink(2). */
    public static String readlinkat(int dirfd, String path) throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment buf = a.allocate(4097);
            long r = (long) READLINKAT.invokeExact(cs, dirfd, Native.path(a, path), buf, 4096L);
            Calls.check(r, cs, "readlinkat", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", buf, 4096");
            return new String(buf.asSlice(0, r).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        });
    }

    /** The path the kernel has for an open fd, as seen from the calling thread's root. */
    public static String fdPath(Fd fd) throws ErrnoException {
        return readlinkat(AT_FDCWD, "/proc/thread-self/fd/" + fd.get());
    }

    /**
     * {@code int statx(int dirfd, const char *pathname, int flags, unsigned int mask, struct statx *statxbuf)},
     * see statx(2).
     */
    public static Statx statx(int dirfd, String path, int flags, int mask) throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment buf = a.allocate(256, 8);
            int r = (int) STATX.invokeExact(cs, dirfd, Native.path(a, path), flags, mask, buf);
            Calls.check(r, cs, "statx", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", "
                    + AT_FLAGS.format(flags) + ", " + STATX_FLAGS.format(mask) + ", buf");
            int gotMask = buf.get(JAVA_INT, 0);
            long mntId = (gotMask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)) != 0 ? buf.get(JAVA_LONG, 144) : 0;
            return new Statx(gotMask, Short.toUnsignedInt(buf.get(JAVA_SHORT, 28)), buf.get(JAVA_LONG, 32),
                    buf.get(JAVA_INT, 136), buf.get(JAVA_INT, 140), mntId, buf.get(JAVA_INT, 20),
                    buf.get(JAVA_LONG, 40));
        });
    }

    /** statx of an open fd itself. */
    public static Statx fstatx(Fd fd, int mask) throws ErrnoException {
        return statx(fd.get(), "", AT_EMPTY_PATH, mask);
    }

    /** {@code int fstatfs(int fd, struct statfs *buf)}, see statfs(2); returns f_type, the filesystem's magic. */
    public static long fstatfsType(Fd fd) throws ErrnoException {
        int raw = fd.get();
        return Calls.call((a, cs) -> {
            MemorySegment buf = a.allocate(120, 8);
            Calls.check((int) FSTATFS.invokeExact(cs, raw, buf), cs, "fstatfs", () -> raw + ", buf");
            return buf.get(JAVA_LONG, 0);
        });
    }

    /** {@code int fchdir(int fd)}, see chdir(2). Changes the cwd of every thread sharing our fs_struct. */
    public static void fchdir(Fd fd) throws ErrnoException {
        int raw = fd.get();
        Calls.call((a, cs) -> Calls.check((int) FCHDIR.invokeExact(cs, raw), cs, "fchdir", () -> Integer.toString(raw)));
    }

    /** {@code int close(int fd)}, see close(2). Only {@link Fd#close()} calls this. */
    static void closeQuietly(int fd) {
        try {
            Calls.call((a, cs) -> {
                // Linux releases the descriptor even when close reports EINTR or EIO: never retry.
                return Calls.check((int) CLOSE.invokeExact(cs, fd), cs, "close", () -> Integer.toString(fd));
            });
        } catch (ErrnoException e) {
            if (e.is(Errno.EBADF)) throw new IllegalStateException(e.getMessage() + ": the descriptor was not ours");
        }
    }
}
