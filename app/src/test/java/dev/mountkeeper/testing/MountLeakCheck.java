package dev.mountkeeper.testing;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test (service-loaded): compares the kernel's mount table after the test
 * with the one before it. A mount the test left behind fails the test, and is detached so that
 * the next test starts clean.
 */
public final class MountLeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(MountLeakCheck.class);

    private static MountTable table() {
        return MountTable.of(KernelFeatures.detect());
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        Set<Long> ids = table().read().stream().map(MountEntry::id).collect(Collectors.toSet());
        context.getStore(NS).put("before", ids);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterEach(ExtensionContext context) throws Exception {
        Set<Long> before = (Set<Long>) context.getStore(NS).get("before");
        if (before == null) return;
        List<MountEntry> leaked = new ArrayList<>();
        for (MountEntry e : MountTable.below(table().read(), "/")) {
            if (!before.contains(e.id())) leaked.add(e);
        }
        if (leaked.isEmpty()) return;
        Set<String> detached = new HashSet<>();
        for (MountEntry e : leaked) {
            try {
                MountSyscalls.umount2(e.mountPoint(), MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
                detached.add(e.mountPoint());
            } catch (ErrnoException ignored) {
                // already gone with its parent
            }
        }
        throw new AssertionError("The test left " + leaked.size() + " mount(s) behind (now detached): "
                + leaked.stream().map(e -> e.mountPoint() + " (" + e.fsType() + ")").collect(Collectors.joining(", ")));
    }
}
