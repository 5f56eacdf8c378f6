package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The mount family: the new mount API (fsopen(2), fsconfig(2), fsmount(2), open_tree(2),
 * move_mount(2), mount_setattr(2)) and the classic mount(2) and umount2(2). glibc only wraps the
 * new calls since 2.36, so they go through syscall(2); their numbers are the same on every
 * architecture that has them.
 */
public final class MountSyscalls {
    private MountSyscalls() {}

    private static final long SYS_OPEN_TREE = 428;
    private static final long SYS_MOVE_MOUNT = 429;
    private static final long SYS_FSOPEN = 430;
    private static final long SYS_FSCONFIG = 431;
    private static final long SYS_FSMOUNT = 432;
    private static final long SYS_MOUNT_SETATTR = 442;

    public static final int FSOPEN_CLOEXEC = 1;
    public static final int FSMOUNT_CLOEXEC = 1;

    public static final int FSCONFIG_SET_FLAG = 0;
    public static final int FSCONFIG_SET_STRING = 1;
    public static final int FSCONFIG_SET_FD = 5;
    public static final int FSCONFIG_CMD_CREATE = 6;

    public static final long MOUNT_ATTR_RDONLY = 0x1;
    public static final long MOUNT_ATTR_NOSUID = 0x2;
    public static final long MOUNT_ATTR_NODEV = 0x4;
    public static final long MOUNT_ATTR_NOEXEC = 0x8;

    public static final int MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    public static final int MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    public static final int OPEN_TREE_CLONE = 1;
    public static final int OPEN_TREE_CLOEXEC = FileSyscalls.O_CLOEXEC;

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_REMOUNT = 32;
    public static final long MS_BIND = 4096;
    public static final long MS_MOVE = 8192;
    public static final long MS_REC = 16384;
    public static final long MS_SILENT = 32768;
    public static final long MS_UNBINDABLE = 1 << 17;
    public static final long MS_PRIVATE = 1 << 18;
    public static final long MS_SLAVE = 1 << 19;
    public static final long MS_SHARED = 1 << 20;

    public static final int MNT_FORCE = 1;
    public static final int MNT_DETACH = 2;
    public static final int UMOUNT_NOFOLLOW = 8;

    static final Flags MOUNT_ATTR = Flags.of("MOUNT_ATTR_RDONLY", MOUNT_ATTR_RDONLY,
            "MOUNT_ATTR_NOSUID", MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NODEV", MOUNT_ATTR_NODEV,
            "MOUNT_ATTR_NOEXEC", MOUNT_ATTR_NOEXEC);
    static final Flags MOVE_MOUNT = Flags.of("MOVE_MOUNT_F_EMPTY_PATH", MOVE_MOUNT_F_EMPTY_PATH,
            "MOVE_MOUNT_T_EMPTY_PATH", MOVE_MOUNT_T_EMPTY_PATH);
    static final Flags OPEN_TREE = Flags.of("OPEN_TREE_CLONE", OPEN_TREE_CLONE,
            "OPEN_TREE_CLOEXEC", OPEN_TREE_CLOEXEC, "AT_EMPTY_PATH", FileSyscalls.AT_EMPTY_PATH,
            "AT_RECURSIVE", FileSyscalls.AT_RECURSIVE, "AT_SYMLINK_NOFOLLOW", FileSyscalls.AT_SYMLINK_NOFOLLOW);
    public static final Flags MS = Flags.of("MS_RDONLY", MS_RDONLY, "MS_NOSUID", MS_NOSUID, "MS_NODEV", MS_NODEV,
            "MS_NOEXEC", MS_NOEXEC, "MS_REMOUNT", MS_REMOUNT, "MS_BIND", MS_BIND, "MS_MOVE", MS_MOVE,
            "MS_REC", MS_REC, "MS_SILENT", MS_SILENT, "MS_UNBINDABLE", MS_UNBINDABLE, "MS_PRIVATE", MS_PRIVATE,
            "MS_SLAVE", MS_SLAVE, "MS_SHARED", MS_SHARED);
    static final Flags UMOUNT = Flags.of("MNT_FORCE", MNT_FORCE, "MNT_DETACH", MNT_DETACH,
            "UMOUNT_NOFOLLOW", UMOUNT_NOFOLLOW);

    private static final MethodHandle MOUNT = Native.errnoCall("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle UMOUNT2 = Native.errnoCall("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    /** {@code int fsopen(const char *fsname, unsigned int flags)}: a filesystem context, see fsopen(2). */
    public static Fd fsopen(String fsName) throws ErrnoException {
        return Calls.call((a, cs) -> Fd.adopt((int) Calls.check(
                Native.syscall(cs, SYS_FSOPEN, Native.path(a, fsName).address(), FSOPEN_CLOEXEC), cs,
                "fsopen", () -> Quote.string(fsName) + ", FSOPEN_CLOEXEC")));
    }

    /** {@code int fsconfig(int fd, FSCONFIG_SET_STRING, const char *key, const char *value, 0)}. */
    public static void fsconfigSetString(Fd fs, String key, String value) throws ErrnoException {
        int fd = fs.get();
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_FSCONFIG, fd, FSCONFIG_SET_STRING,
                        Native.path(a, key).address(), Native.path(a, value).address(), 0), cs,
                "fsconfig", () -> fd + ", FSCONFIG_SET_STRING, " + Quote.string(key) + ", " + Quote.string(value) + ", 0"));
    }

    /** {@code int fsconfig(int fd, FSCONFIG_SET_FLAG, const char *key, NULL, 0)}. */
    public static void fsconfigSetFlag(Fd fs, String key) throws ErrnoException {
        int fd = fs.get();
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_FSCONFIG, fd, FSCONFIG_SET_FLAG,
                        Native.path(a, key).address(), 0, 0), cs,
                "fsconfig", () -> fd + ", FSCONFIG_SET_FLAG, " + Quote.string(key) + ", NULL, 0"));
    }

    /** {@code int fsconfig(int fd, FSCONFIG_SET_FD, const char *key, NULL, int aux)}: e.g. procfs "pidns". */
    public static void fsconfigSetFd(Fd fs, String key, Fd value) throws ErrnoException {
        int fd = fs.get();
        int aux = value.get();
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_FSCONFIG, fd, FSCONFIG_SET_FD,
                        Native.path(a, key).address(), 0, aux), cs,
                "fsconfig", () -> fd + ", FSCONFIG_SET_FD, " + Quote.string(key) + ", NULL, " + aux));
    }

    /** {@code int fsconfig(int fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)}: makes the superblock. */
    public static void fsconfigCreate(Fd fs) throws ErrnoException {
        int fd = fs.get();
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_FSCONFIG, fd, FSCONFIG_CMD_CREATE, 0, 0, 0), cs,
                "fsconfig", () -> fd + ", FSCONFIG_CMD_CREATE, NULL, NULL, 0"));
    }

    /**
     * {@code int fsmount(int fsfd, unsigned int flags, unsigned int attr_flags)}: a detached mount,
     * see fsmount(2). It dissolves when its last fd closes unless it was attached.
     */
    public static Fd fsmount(Fd fs, long attrFlags) throws ErrnoException {
        int fd = fs.get();
        return Calls.call((a, cs) -> Fd.adopt((int) Calls.check(
                Native.syscall(cs, SYS_FSMOUNT, fd, FSMOUNT_CLOEXEC, attrFlags), cs,
                "fsmount", () -> fd + ", FSMOUNT_CLOEXEC, " + MOUNT_ATTR.format(attrFlags))));
    }

    /** {@code int open_tree(int dirfd, const char *path, unsigned int flags)}, see open_tree(2). */
    public static Fd openTree(int dirfd, String path, int flags) throws ErrnoException {
        int f = flags | OPEN_TREE_CLOEXEC;
        return Calls.call((a, cs) -> Fd.adopt((int) Calls.check(
                Native.syscall(cs, SYS_OPEN_TREE, dirfd, Native.path(a, path).address(), f), cs,
                "open_tree", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", " + OPEN_TREE.format(f))));
    }

    /**
     * {@code int move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
     * unsigned int flags)}, see move_mount(2).
     */
    public static void moveMount(int fromDirfd, String fromPath, int toDirfd, String toPath, int flags)
            throws ErrnoException {
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_MOVE_MOUNT, fromDirfd,
                        Native.path(a, fromPath).address(), toDirfd, Native.path(a, toPath).address(), flags), cs,
                "move_mount", () -> Calls.dirfd(fromDirfd) + ", " + Quote.string(fromPath) + ", "
                        + Calls.dirfd(toDirfd) + ", " + Quote.string(toPath) + ", " + MOVE_MOUNT.format(flags)));
    }

    /**
     * {@code int mount_setattr(int dirfd, const char *path, unsigned int flags, struct mount_attr *attr,
     * size_t size)}, see mount_setattr(2). {@code propagation} is MS_PRIVATE, MS_SLAVE, MS_SHARED or 0.
     */
    public static void mountSetattr(int dirfd, String path, int flags, long attrSet, long attrClr, long propagation)
            throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment attr = a.allocate(32, 8);
            attr.set(JAVA_LONG, 0, attrSet);
            attr.set(JAVA_LONG, 8, attrClr);
            attr.set(JAVA_LONG, 16, propagation);
            return Calls.check(Native.syscall(cs, SYS_MOUNT_SETATTR, dirfd, Native.path(a, path).address(), flags,
                            attr.address(), 32), cs,
                    "mount_setattr", () -> Calls.dirfd(dirfd) + ", " + Quote.string(path) + ", "
                            + FileSyscalls.AT_FLAGS.format(flags) + ", {attr_set=" + MOUNT_ATTR.format(attrSet)
                            + ", attr_clr=" + MOUNT_ATTR.format(attrClr) + ", propagation="
                            + MS.format(propagation) + "}, 32");
        });
    }

    /**
     * {@code int mount(const char *source, const char *target, const char *filesystemtype,
     * unsigned long mountflags, const void *data)}, see mount(2). The fallback for kernels or
     * seccomp profiles without the new API; targets are /proc/thread-self/fd/N paths.
     */
    public static void mount(String source, String target, String fsType, long flags, String data)
            throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) MOUNT.invokeExact(cs, Native.nullablePath(a, source),
                        Native.path(a, target), Native.nullablePath(a, fsType), flags, Native.nullablePath(a, data)), cs,
                "mount", () -> Quote.string(source) + ", " + Quote.string(target) + ", " + Quote.string(fsType)
                        + ", " + MS.format(flags) + ", " + Quote.string(data)));
    }

    /** {@code int umount2(const char *target, int flags)}, see umount(2). */
    public static void umount2(String target, int flags) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) UMOUNT2.invokeExact(cs, Native.path(a, target), flags), cs,
                "umount2", () -> Quote.string(target) + ", " + UMOUNT.format(flags)));
    }
}
