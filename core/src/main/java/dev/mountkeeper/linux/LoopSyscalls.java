package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Loop devices: ioctl(2) on /dev/loop-control and /dev/loopN, see loop(4). */
public final class LoopSyscalls {
    private LoopSyscalls() {}

    private static final long LOOP_CTL_GET_FREE = 0x4C82;
    private static final long LOOP_CONFIGURE = 0x4C0A;
    public static final int LO_FLAGS_READ_ONLY = 1;
    public static final int LO_FLAGS_AUTOCLEAR = 4;
    private static final Flags LO_FLAGS = Flags.of("LO_FLAGS_READ_ONLY", LO_FLAGS_READ_ONLY, "LO_FLAGS_AUTOCLEAR",
            LO_FLAGS_AUTOCLEAR);
    /** struct loop_config: __u32 fd, __u32 block_size, struct loop_info64 info (232 bytes), __u64 __reserved[8]. */
    private static final long LOOP_CONFIG_SIZE = 4 + 4 + 232 + 64;
    /** info.lo_flags: after lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit (u64 each) and three u32s. */
    private static final long LO_FLAGS_OFFSET = 8 * 5 + 4 * 3;

    private static final MethodHandle IOCTL_LONG = Native.variadicErrnoCall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_PTR = Native.variadicErrnoCall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);

    /** {@code int ioctl(int control, LOOP_CTL_GET_FREE)} on /dev/loop-control: the number of a free loop device. */
    public static int getFree(Fd control) throws ErrnoException {
        return Calls.call((a, cs) -> (int) Calls.check((int) IOCTL_LONG.invokeExact(cs, control.get(), LOOP_CTL_GET_FREE, 0L),
                cs, "ioctl", () -> control + ", LOOP_CTL_GET_FREE"));
    }

    /**
     * {@code int ioctl(int loopfd, LOOP_CONFIGURE, const struct loop_config *config)}: backs the
     * loop device with {@code backing} in one step (Linux 5.8).
     */
    public static void configure(Fd loop, Fd backing, int flags) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment c = a.allocate(LOOP_CONFIG_SIZE, 8);
            c.set(JAVA_INT, 0, backing.get());
            c.set(JAVA_INT, 8 + LO_FLAGS_OFFSET, flags);
            return Calls.check((int) IOCTL_PTR.invokeExact(cs, loop.get(), LOOP_CONFIGURE, c), cs, "ioctl",
                    () -> loop + ", LOOP_CONFIGURE, {fd=" + backing + ", flags=" + LO_FLAGS.format(flags) + "}");
        });
    }
}
