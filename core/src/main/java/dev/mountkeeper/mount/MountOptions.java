package dev.mountkeeper.mount;

/**
 * The fourth field of a spec. {@code propagation} null means the type's default (private, or slave
 * for rbind); {@code sizeBytes} and {@code mode} null mean unset.
 */
public record MountOptions(boolean readOnly, boolean nosuid, boolean nodev, boolean noexec,
                           Propagation propagation, boolean recursive, boolean optional,
                           Long sizeBytes, Integer mode) {
    public static final MountOptions NONE = new MountOptions(false, false, false, false, null, false, false, null, null);

    public MountOptions {
        if (sizeBytes != null && (sizeBytes <= 0 || sizeBytes > (1L << 50))) {
            throw new IllegalArgumentException("size=" + sizeBytes + " is out of range");
        }
        if (mode != null && (mode < 0 || mode > 07777)) {
            throw new IllegalArgumentException("mode=0" + Integer.toOctalString(mode) + " is out of range");
        }
    }

    public MountOptions withReadOnly(boolean ro) {
        return new MountOptions(ro, nosuid, nodev, noexec, propagation, recursive, optional, sizeBytes, mode);
    }

    /** Refuses options the spec type cannot honour, so nothing is silently ignored. */
    void allowOnly(String type, boolean mountFlags, boolean recursiveAndTry, boolean size, boolean modeAllowed) {
        if (!mountFlags && (readOnly || nosuid || nodev || noexec || propagation != null)) {
            throw new IllegalArgumentException("type \"" + type + "\" makes no mount, so it takes no mount flags");
        }
        if (!recursiveAndTry && recursive) {
            throw new IllegalArgumentException("option \"recursive\" only applies to binds, not \"" + type + "\"");
        }
        if (!recursiveAndTry && optional) {
            throw new IllegalArgumentException("option \"try\" only applies to binds, not \"" + type + "\"");
        }
        if (!size && sizeBytes != null) {
            throw new IllegalArgumentException("option \"size\" does not apply to \"" + type + "\"");
        }
        if (!modeAllowed && mode != null) {
            throw new IllegalArgumentException("option \"mode\" does not apply to \"" + type + "\"");
        }
    }
}
