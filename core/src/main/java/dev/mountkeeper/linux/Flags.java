package dev.mountkeeper.linux;

import java.util.StringJoiner;

/**
 * Prints flag words the way C code spells them: {@code MS_BIND|MS_REC|0x80000200}. Bits without a
 * name are kept as hex, so nothing passed to the kernel is hidden from an error message.
 */
public final class Flags {
    /** One named flag, its value possibly several bits (O_PATH) or zero (O_RDONLY is not printed). */
    public record Flag(String name, long value) {}

    private final Flag[] flags;

    private Flags(Flag[] flags) {
        this.flags = flags;
    }

    public static Flags of(Object... nameValuePairs) {
        Flag[] f = new Flag[nameValuePairs.length / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = new Flag((String) nameValuePairs[2 * i], ((Number) nameValuePairs[2 * i + 1]).longValue());
        }
        return new Flags(f);
    }

    public String format(long value) {
        if (value == 0) return "0";
        StringJoiner out = new StringJoiner("|");
        long rest = value;
        for (Flag f : flags) {
            if (f.value() != 0 && (rest & f.value()) == f.value()) {
                out.add(f.name());
                rest &= ~f.value();
            }
        }
        if (rest != 0) out.add("0x" + Long.toHexString(rest));
        return out.toString();
    }
}
