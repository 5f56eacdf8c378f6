package dev.mountkeeper.testing;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Assertions read the kernel's own mount table; these are the reads. */
public final class Kernel {
    private Kernel() {}

    public static List<MountEntry> mounts() {
        try {
            return MountTable.of(KernelFeatures.detect()).read();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The top mount at exactly {@code hostPath}, if any. */
    public static Optional<MountEntry> mountAt(String hostPath) {
        List<MountEntry> all = mounts();
        return MountTable.below(all, hostPath).stream().filter(e -> e.mountPoint().equals(hostPath)).findFirst();
    }

    public static List<MountEntry> mountsBelow(String hostPath) {
        return MountTable.below(mounts(), hostPath);
    }

    /** The kernel's features, and each fallback forced, for tests that must pass on every path. */
    public static Stream<KernelFeatures> featureVariants() {
        KernelFeatures k = KernelFeatures.detect();
        return Stream.of(k, k.without("mount-api"), k.without("listmount"), k.without("mnt-id-unique"), k.without("pidns"),
                k.without("mount-api,listmount,mnt-id-unique,pidns")).distinct();
    }
}
