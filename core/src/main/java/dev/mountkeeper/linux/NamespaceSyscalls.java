package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Namespaces and roots: unshare(2), setns(2), chroot(2), pivot_root(2). In the JVM these act on the
 * calling thread only when it first unshared CLONE_FS; see linux-mount-facts.md.
 */
public final class NamespaceSyscalls {
    private NamespaceSyscalls() {}

    public static final int CLONE_FS = 0x200;
    public static final int CLONE_FILES = 0x400;
    public static final int CLONE_NEWNS = 0x20000;
    public static final int CLONE_NEWCGROUP = 0x02000000;
    public static final int CLONE_NEWUTS = 0x04000000;
    public static final int CLONE_NEWIPC = 0x08000000;
    public static final int CLONE_NEWUSER = 0x10000000;
    public static final int CLONE_NEWPID = 0x20000000;
    public static final int CLONE_NEWNET = 0x40000000;

    static final Flags CLONE = Flags.of("CLONE_FS", CLONE_FS, "CLONE_FILES", CLONE_FILES,
            "CLONE_NEWNS", CLONE_NEWNS, "CLONE_NEWCGROUP", CLONE_NEWCGROUP, "CLONE_NEWUTS", CLONE_NEWUTS,
            "CLONE_NEWIPC", CLONE_NEWIPC, "CLONE_NEWUSER", CLONE_NEWUSER, "CLONE_NEWPID", CLONE_NEWPID,
            "CLONE_NEWNET", CLONE_NEWNET);

    private static final long SYS_PIVOT_ROOT = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 155;
        case "aarch64", "riscv64" -> 41;
        default -> -1;
    };

    private static final MethodHandle UNSHARE = Native.errnoCall("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SETNS = Native.errnoCall("setns",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CHROOT = Native.errnoCall("chroot", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    /** {@code int unshare(int flags)}, see unshare(2). */
    public static void unshare(int flags) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) UNSHARE.invokeExact(cs, flags), cs, "unshare",
                () -> CLONE.format(flags)));
    }

    /** {@code int setns(int fd, int nstype)}, see setns(2). */
    public static void setns(Fd ns, int nstype) throws ErrnoException {
        int fd = ns.get();
        Calls.call((a, cs) -> Calls.check((int) SETNS.invokeExact(cs, fd, nstype), cs, "setns",
                () -> fd + ", " + CLONE.format(nstype)));
    }

    /** {@code int chroot(const char *path)}, see chroot(2). */
    public static void chroot(String path) throws ErrnoException {
        Calls.call((a, cs) -> Calls.check((int) CHROOT.invokeExact(cs, Native.path(a, path)), cs, "chroot",
                () -> Quote.string(path)));
    }

    /** {@code int pivot_root(const char *new_root, const char *put_old)}, see pivot_root(2). */
    public static void pivotRoot(String newRoot, String putOld) throws ErrnoException {
        if (SYS_PIVOT_ROOT < 0) throw new UnsupportedOperationException("pivot_root: unknown syscall number here");
        Calls.call((a, cs) -> Calls.check(Native.syscall(cs, SYS_PIVOT_ROOT, Native.path(a, newRoot).address(),
                Native.path(a, putOld).address()), cs, "pivot_root",
                () -> Quote.string(newRoot) + ", " + Quote.string(putOld)));
    }
}
