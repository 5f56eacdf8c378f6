package dev.mountkeeper.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * An errno value. Names and texts come from glibc itself (strerrorname_np, strerrordesc_np, both
 * thread-safe), so they are never hand-typed; the constants below are checked against the kernel
 * headers by a test.
 */
public record Errno(int number) {
    public static final Errno EPERM = new Errno(1);
    public static final Errno ENOENT = new Errno(2);
    public static final Errno ESRCH = new Errno(3);
    public static final Errno EINTR = new Errno(4);
    public static final Errno EBADF = new Errno(9);
    public static final Errno ECHILD = new Errno(10);
    public static final Errno EAGAIN = new Errno(11);
    public static final Errno EACCES = new Errno(13);
    public static final Errno EBUSY = new Errno(16);
    public static final Errno EEXIST = new Errno(17);
    public static final Errno EXDEV = new Errno(18);
    public static final Errno ENOTDIR = new Errno(20);
    public static final Errno EISDIR = new Errno(21);
    public static final Errno EINVAL = new Errno(22);
    public static final Errno ENOSPC = new Errno(28);
    public static final Errno EROFS = new Errno(30);
    public static final Errno ENAMETOOLONG = new Errno(36);
    public static final Errno ENOSYS = new Errno(38);
    public static final Errno ENOTEMPTY = new Errno(39);
    public static final Errno ELOOP = new Errno(40);
    public static final Errno EOPNOTSUPP = new Errno(95);
    public static final Errno E2BIG = new Errno(7);
    public static final Errno ENOEXEC = new Errno(8);

    private static final MethodHandle NAME = Native.plainCall("strerrorname_np",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle DESC = Native.plainCall("strerrordesc_np",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    /** The symbolic name, e.g. "EPERM", or "E123" for a number glibc does not know. */
    public String name() {
        String s = cString(NAME);
        return s == null ? "E" + number : s;
    }

    /** The text, e.g. "Operation not permitted". */
    public String description() {
        String s = cString(DESC);
        return s == null ? "Unknown error " + number : s;
    }

    private String cString(MethodHandle h) {
        try {
            MemorySegment p = (MemorySegment) h.invokeExact(number);
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    @Override
    public String toString() {
        return name() + " (" + description() + ")";
    }
}
