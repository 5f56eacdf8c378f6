package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The calling thread's filesystem credentials: setfsuid(2), setfsgid(2), setgroups(2). All three
 * are raw system calls: the kernel keeps credentials per thread, but glibc's wrappers for
 * setgroups (and the setuid family) signal every thread of the process to change with it, and the
 * point here is to change exactly one thread.
 */
public final class CredentialSyscalls {
    private CredentialSyscalls() {}

    private record Numbers(long setgroups, long setfsuid, long setfsgid) {}

    private static final Numbers SYS = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> new Numbers(116, 122, 123);
        case "aarch64", "riscv64" -> new Numbers(159, 151, 152);
        default -> null;
    };

    private static Numbers sys() {
        if (SYS == null) throw new UnsupportedOperationException("credential calls: unknown syscall numbers here");
        return SYS;
    }

    /**
     * {@code int setfsuid(uid_t fsuid)}, see setfsuid(2), for the calling thread only. The call
     * reports no error, only the previous id, so success is read back by asking again.
     */
    public static void setfsuid(int uid) throws ErrnoException {
        set("setfsuid", sys().setfsuid(), uid);
    }

    /** {@code int setfsgid(gid_t fsgid)}, see setfsgid(2), for the calling thread only; checked like setfsuid. */
    public static void setfsgid(int gid) throws ErrnoException {
        set("setfsgid", sys().setfsgid(), gid);
    }

    private static void set(String name, long number, int id) throws ErrnoException {
        Calls.call((a, cs) -> {
            Native.syscall(cs, number, id & 0xffffffffL);
            // An invalid id (-1) changes nothing and returns the current one.
            long now = Native.syscall(cs, number, 0xffffffffL);
            if ((int) now != id) throw new ErrnoException(name, name + "(" + id + ") left " + (int) now, Errno.EPERM);
            return null;
        });
    }

    /** {@code int setgroups(size_t size, const gid_t *list)}, see setgroups(2), for the calling thread only. */
    public static void setgroups(List<Integer> groups) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment list = a.allocate(JAVA_INT, Math.max(1, groups.size()));
            for (int i = 0; i < groups.size(); i++) list.setAtIndex(JAVA_INT, i, groups.get(i));
            return Calls.check(Native.syscall(cs, sys().setgroups(), groups.size(), list.address()), cs, "setgroups",
                    () -> groups.size() + ", " + groups);
        });
    }
}
