package dev.mountkeeper.provider;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProvider;
import dev.mountkeeper.mount.MountProviders;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.mount.Staged;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The staging place: a private tmpfs where providers mount before mountkeeper moves their mounts
 * into place. Mounted in the calling thread's mount namespace (a sandbox's own, before its root
 * exists), so what happens in it is never seen outside. Each provider gets a fresh entry name;
 * afterwards its mount must sit on exactly that entry, be of the kind it said, and be the only
 * mount it made. Closing unmounts the tmpfs with whatever a provider left in it.
 */
public final class Staging implements Mounter.Stager, AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** {@code $MOUNTKEEPER_PROVIDER_TIMEOUT} seconds, else {@link #DEFAULT_TIMEOUT}. */
    public static Duration timeoutFromEnvironment() {
        String s = System.getProperty("mountkeeper.provider.timeout", System.getenv("MOUNTKEEPER_PROVIDER_TIMEOUT"));
        if (s == null || s.isBlank()) return DEFAULT_TIMEOUT;
        try {
            return Duration.ofMillis((long) (Double.parseDouble(s) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("MOUNTKEEPER_PROVIDER_TIMEOUT " + Quote.string(s) + " is not a number of seconds");
        }
    }

    private final String path;
    private final Fd dir;
    private final KernelFeatures features;
    private final Duration timeout;
    private final boolean strays;
    private int next;

    private Staging(String path, Fd dir, KernelFeatures features, Duration timeout, boolean strays) {
        this.path = path;
        this.dir = dir;
        this.features = features;
        this.timeout = timeout;
        this.strays = strays;
    }

    /**
     * Mounts the staging tmpfs on {@code directory} (created if missing).
     *
     * @param privateNamespace whether this thread's mount namespace is private to us: only then are
     *                         mounts a provider made elsewhere detached (elsewhere they may be anyone's)
     */
    public static Staging create(String directory, KernelFeatures features, Duration timeout, boolean privateNamespace)
            throws IOException {
        String p = SpecPaths.absolute("staging directory", directory);
        try {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of(p));
            MountSyscalls.mount("mountkeeper-staging", p, "tmpfs", MountSyscalls.MS_NOSUID | MountSyscalls.MS_NODEV, "mode=0700");
            MountSyscalls.mount(null, p, null, MountSyscalls.MS_PRIVATE, null);
            return new Staging(p, openat2(AT_FDCWD, p, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, 0), features, timeout,
                    privateNamespace);
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to make the staging place " + Quote.string(p), e);
        }
    }

    @Override
    public Staged stage(MountSpec.Provided spec) throws IOException {
        MountProvider provider = MountProviders.find(spec.provider()).orElseThrow(() -> new MountException(
                MountException.Reason.INVALID_INPUT, "No provider " + Quote.string(spec.provider())));
        String name = "m" + next++;
        String what = "Provider " + Quote.string(spec.provider()) + " (for " + Quote.string(spec.dest()) + ")";
        Set<Long> before = ids();
        long stagingId = fstatx(dir, features.statxMountIdMask()).mountId();
        Staged entry = new Staged(reopen(), name, MountProvider.Kind.UNSAID, 0);
        try {
            MountProvider.Kind said;
            try {
                said = provider.mount(new MountProvider.Request(spec.source(), spec.dest(), spec.providerOptions(),
                        path + "/" + name, timeout));
            } catch (IOException e) {
                throw new MountException(e instanceof MountException m ? m.reason() : MountException.Reason.SYSTEM,
                        what + " failed: " + e.getMessage());
            }
            Statx top;
            try {
                top = statx(dir.get(), name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | features.statxMountIdMask());
            } catch (ErrnoException e) {
                throw new MountException(MountException.Reason.SYSTEM, what + " made nothing at its staging place");
            }
            List<MountEntry> stray = strays(before, top.mountId());
            if (!stray.isEmpty()) {
                throw new MountException(MountException.Reason.SYSTEM, what + " mounted outside its staging place: "
                        + String.join(", ", stray.stream().map(MountEntry::mountPoint).toList()));
            }
            if (top.mountId() == stagingId) {
                throw new MountException(MountException.Reason.SYSTEM, what + " mounted nothing on its staging place");
            }
            MountProvider.Kind actual = top.isDirectory() ? MountProvider.Kind.DIRECTORY : MountProvider.Kind.FILE;
            if (said != MountProvider.Kind.UNSAID && said != actual) {
                throw new MountException(MountException.Reason.SYSTEM, what + " said it made a "
                        + said.name().toLowerCase() + ", but made a " + actual.name().toLowerCase());
            }
            Staged ok = new Staged(entry.dir(), name, actual, top.mountId());
            entry = null;
            return ok;
        } finally {
            if (entry != null) {
                try (Staged e = entry) {
                    e.remove();
                } catch (ErrnoException undo) {
                    // close() below detaches the whole staging tmpfs anyway
                }
            }
        }
    }

    private Fd reopen() throws ErrnoException {
        return openat2(dir.get(), ".", O_PATH | O_DIRECTORY, 0, 0);
    }

    private Set<Long> ids() throws IOException {
        Set<Long> ids = new HashSet<>();
        for (MountEntry e : MountTable.of(features).read()) ids.add(e.id());
        return ids;
    }

    /** Mounts that appeared while the provider ran, other than its mount (and what lies on it); detached here. */
    private List<MountEntry> strays(Set<Long> before, long top) throws IOException {
        List<MountEntry> table = MountTable.of(features).read();
        Set<Long> ours = new HashSet<>();
        MountTable.subtree(table, top).forEach(m -> ours.add(m.id()));
        List<MountEntry> stray = table.stream().filter(m -> !before.contains(m.id()) && !ours.contains(m.id())
                // In a namespace shared with others (the daemon's), only what lies in the staging place is surely the provider's.
                && (strays || SpecPaths.isAtOrBelow(m.mountPoint(), path))).toList();
        for (MountEntry m : stray.reversed()) {
            try {
                MountSyscalls.umount2(m.mountPoint(), MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
            } catch (ErrnoException gone) {
                // went with its parent
            }
        }
        return stray;
    }

    @Override
    public void close() {
        try {
            MountSyscalls.umount2(path, MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
        } catch (ErrnoException e) {
            if (!e.is(Errno.EINVAL)) System.getLogger("mountkeeper.staging").log(System.Logger.Level.WARNING,
                    "Failed to unmount the staging place " + Quote.string(path) + ": " + e.getMessage());
        }
        dir.close();
    }
}
