package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

/**
 * capget(2) and capset(2) on the calling thread, through syscall(2): capabilities are per thread
 * in the kernel, and glibc's wrappers are not in every libc. Version 3 of the interface: two
 * 32-bit words of each set.
 */
public final class CapabilitySyscalls {
    private CapabilitySyscalls() {}

    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    private static final long SYS_CAPGET = arch(125, 90);
    private static final long SYS_CAPSET = arch(126, 91);

    /** PR_SET_SECUREBITS and the bits of linux/securebits.h. */
    public static final int PR_SET_SECUREBITS = 28;
    public static final int PR_GET_SECUREBITS = 27;
    public static final int SECBIT_NOROOT = 1, SECBIT_NOROOT_LOCKED = 1 << 1, SECBIT_NO_SETUID_FIXUP = 1 << 2,
            SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 3, SECBIT_KEEP_CAPS_LOCKED = 1 << 5,
            SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6, SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 7;

    /** The three sets, each as a 64-bit mask (bit N: capability N). */
    public record Sets(long effective, long permitted, long inheritable) {}

    private static long arch(long x86, long generic) {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> x86;
            case "aarch64", "riscv64" -> generic;
            default -> -1;
        };
    }

    /** {@code int capget(cap_user_header_t hdrp, cap_user_data_t datap)} for the calling thread. */
    public static Sets capget() throws ErrnoException {
        return Calls.call((a, cs) -> {
            MemorySegment header = header(a);
            MemorySegment data = a.allocate(24, 4);
            Calls.check(Native.syscall(cs, SYS_CAPGET, header.address(), data.address()), cs, "capget", () -> "v3, 0");
            return new Sets(word(data, 0), word(data, 4), word(data, 8));
        });
    }

    /** {@code int capset(cap_user_header_t hdrp, const cap_user_data_t datap)} for the calling thread. */
    public static void capset(Sets sets) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment header = header(a);
            MemorySegment data = a.allocate(24, 4);
            long[] masks = {sets.effective(), sets.permitted(), sets.inheritable()};
            for (int i = 0; i < 3; i++) {
                data.set(JAVA_INT, i * 4L, (int) masks[i]);
                data.set(JAVA_INT, 12 + i * 4L, (int) (masks[i] >>> 32));
            }
            return Calls.check(Native.syscall(cs, SYS_CAPSET, header.address(), data.address()), cs, "capset",
                    () -> "v3, effective=0x" + Long.toHexString(sets.effective()) + ", permitted=0x"
                            + Long.toHexString(sets.permitted()) + ", inheritable=0x" + Long.toHexString(sets.inheritable()));
        });
    }

    private static MemorySegment header(java.lang.foreign.Arena a) {
        MemorySegment header = a.allocate(8, 4);
        header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
        header.set(JAVA_INT, 4, 0); // this thread
        return header;
    }

    /** Set {@code offset} of the first struct and its twin in the second: low and high words. */
    private static long word(MemorySegment data, long offset) {
        return Integer.toUnsignedLong(data.get(JAVA_INT, offset)) | (Integer.toUnsignedLong(data.get(JAVA_INT, 12 + offset)) << 32);
    }
}
