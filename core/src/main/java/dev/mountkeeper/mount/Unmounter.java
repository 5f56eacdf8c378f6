package dev.mountkeeper.mount;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * unmountat. Linux has none, so each mount is unmounted as
 * {@code umount2("/proc/thread-self/fd/<parent fd>/<name>", UMOUNT_NOFOLLOW)}: the parent is an
 * fd opened inside the root without following symlinks, the name is not followed either, and the
 * mount id found there must be the one we expect. No chdir, no process-wide state, no lock.
 */
public final class Unmounter {
    private static final System.Logger LOG = System.getLogger("mountkeeper.unmount");

    /** How an unmount ended. */
    public enum Outcome { UNMOUNTED, DETACHED_LAZILY, NOTHING_MOUNTED }

    private final KernelFeatures features;
    private final UnmountPolicy policy;

    public Unmounter(KernelFeatures features, UnmountPolicy policy) {
        this.features = features;
        this.policy = policy;
    }

    /** Unmounts what {@code m} mounted, with everything mounted on or below it since, deepest first. */
    public Outcome unmount(Root root, Mounted m) throws IOException {
        return unmount(root, m, policy);
    }

    public Outcome unmount(Root root, Mounted m, UnmountPolicy p) throws IOException {
        return m.isMount() ? unmount(root, m, p, MountTable.of(features).read()) : Outcome.NOTHING_MOUNTED;
    }

    /**
     * The same, with a mount table read a little earlier (one read for many unmounts): a mount of
     * the subtree gone meanwhile is found gone by id when its turn comes, and one added on top
     * meanwhile makes the unmount busy, so a stale table never unmounts anything but ours.
     */
    public Outcome unmount(Root root, Mounted m, UnmountPolicy p, List<MountEntry> table) throws IOException {
        if (!m.isMount()) return Outcome.NOTHING_MOUNTED;
        List<MountEntry> tree = MountTable.subtree(table, m.mountId());
        if (tree.isEmpty()) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to unmount "
                    + Quote.string(root.hostPath(m.path())) + ": mount " + m.mountId() + " is no longer mounted");
        }
        return unmountTree(root, tree, p);
    }

    /** Unmounts the top mount at {@code dest} (a path inside the root) and everything below it. */
    public Outcome unmountPath(Root root, String dest, UnmountPolicy p) throws IOException {
        String path;
        long id;
        try (Fd fd = root.openInRoot(dest, O_NOFOLLOW)) {
            path = root.inRootPath(fd, dest);
            id = FileSyscalls.fstatx(fd, features.statxMountIdMask()).mountId();
        } catch (ErrnoException e) {
            throw new MountException(Mounter.reasonOf(e), "Failed to unmount " + Quote.string(root.hostPath(dest)), e);
        }
        List<MountEntry> table = MountTable.of(features).read();
        String host = root.hostPath(path);
        boolean isMountPoint = table.stream().anyMatch(e -> e.id() == id && e.mountPoint().equals(host));
        if (!isMountPoint) {
            throw new MountException(MountException.Reason.INVALID_INPUT, "Failed to unmount " + Quote.string(host)
                    + ": not a mount point");
        }
        return unmountTree(root, MountTable.subtree(table, id), p);
    }

    /**
     * How often a mount whose mountpoint was renamed underneath us is looked up again by id. Linux
     * lets a mountpoint be renamed in a narrow window (seen under a RENAME_EXCHANGE attacker), so
     * a name can stop meaning our mount between the check and umount2.
     */
    private static final int MOVED_RETRIES = 8;

    /** The name no longer carries the mount we expect (it moved, or a symlink took its place). */
    private static final class Moved extends Exception {
        Moved(String why) { super(why, null, false, false); }
    }

    private Outcome unmountTree(Root root, List<MountEntry> childrenFirst, UnmountPolicy p) throws IOException {
        Outcome outcome = Outcome.UNMOUNTED;
        for (MountEntry e : childrenFirst) {
            if (unmountFollowing(root, e, p) == Outcome.DETACHED_LAZILY) {
                outcome = Outcome.DETACHED_LAZILY;
                break; // a lazy detach takes whatever is still below with it
            }
        }
        return outcome;
    }

    /** Unmounts {@code e}; if its mountpoint moves meanwhile, finds it again by id (never by path). */
    private Outcome unmountFollowing(Root root, MountEntry e, UnmountPolicy p) throws IOException {
        String mountPoint = e.mountPoint();
        for (int attempt = 1; ; attempt++) {
            String inRoot = root.inRootPath(mountPoint);
            if (inRoot == null || inRoot.equals("/")) {
                throw new MountException(MountException.Reason.SYSTEM, "Refusing to unmount " + Quote.string(mountPoint)
                        + ": it is not inside the root " + Quote.string(root.path()));
            }
            try {
                return unmountOne(root, inRoot, e.id(), p);
            } catch (Moved moved) {
                var now = MountTable.of(features).read().stream().filter(x -> x.id() == e.id()).findFirst();
                if (now.isEmpty()) return Outcome.UNMOUNTED; // gone already: nothing of ours is left there
                if (attempt >= MOVED_RETRIES) {
                    throw new MountException(MountException.Reason.SYSTEM, "Refusing to unmount "
                            + Quote.string(root.hostPath(inRoot)) + ": " + moved.getMessage() + ", " + attempt
                            + " times; it is now at " + Quote.string(now.get().mountPoint()));
                }
                mountPoint = now.get().mountPoint();
            }
        }
    }

    /** Unmounts mount {@code id} at {@code path} (inside the root), and only that mount. */
    private Outcome unmountOne(Root root, String path, long id, UnmountPolicy p) throws IOException, Moved {
        String host = root.hostPath(path);
        String name = SpecPaths.name(path);
        try (Fd parent = openat2(root.fd().get(), SpecPaths.parent(path), O_PATH | O_DIRECTORY, 0,
                Root.IN_ROOT | RESOLVE_NO_SYMLINKS)) {
            String target = "/proc/thread-self/fd/" + parent.get() + "/" + name;
            long sleep = p.firstBackoff().toNanos();
            for (int attempt = 1; ; attempt++) {
                checkStillOurs(parent, name, id);
                try {
                    MountSyscalls.umount2(target, MountSyscalls.UMOUNT_NOFOLLOW);
                    return Outcome.UNMOUNTED;
                } catch (ErrnoException e) {
                    // EINVAL: what is at the name now is not a mount root (a symlink, or a plain directory).
                    if (e.is(Errno.EINVAL)) throw new Moved("it was replaced while being unmounted");
                    if (!e.is(Errno.EBUSY)) throw e;
                    if (attempt >= p.attempts()) return busy(root, parent, name, id, host, target, attempt, e, p);
                }
                try {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new MountException(MountException.Reason.SYSTEM, "Interrupted while unmounting " + Quote.string(host));
                }
                sleep *= 2;
            }
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR) || e.is(Errno.ELOOP)) {
                throw new Moved("its path changed (" + e.errno().name() + ")");
            }
            throw new MountException(Mounter.reasonOf(e), "Failed to unmount " + Quote.string(host), e);
        }
    }

    /** What is at {@code name} now must be a directory or file carrying mount {@code id}, never a symlink. */
    private void checkStillOurs(Fd parent, String name, long id) throws IOException, Moved {
        Statx st = statx(parent.get(), name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | features.statxMountIdMask());
        if (st.isSymlink()) throw new Moved("it was replaced by a symbolic link");
        if (st.mountId() != id) throw new Moved("the mount there is " + st.mountId() + ", not " + id);
    }

    private Outcome busy(Root root, Fd parent, String name, long id, String host, String target, int attempts,
                         ErrnoException cause, UnmountPolicy p) throws IOException {
        Set<Long> ids = MountTable.subtree(MountTable.of(features).read(), id).stream()
                .map(MountEntry::id).collect(Collectors.toSet());
        List<Holders.Holder> holders = Holders.find(ids, host, features);
        String who = holders.isEmpty() ? "no process found holding it"
                : "held by " + holders.stream().map(Holders.Holder::toString).collect(Collectors.joining(", "));
        if (p.lazyWhenBusy()) {
            try {
                MountSyscalls.umount2(target, MountSyscalls.UMOUNT_NOFOLLOW | MountSyscalls.MNT_DETACH);
            } catch (ErrnoException e) {
                throw new MountException(MountException.Reason.SYSTEM, "Failed to detach " + Quote.string(host), e);
            }
            LOG.log(System.Logger.Level.WARNING, "Detached " + Quote.string(host) + " lazily after " + attempts
                    + " busy attempts (" + who + ")");
            return Outcome.DETACHED_LAZILY;
        }
        throw new MountException(MountException.Reason.BUSY, "Failed to unmount " + Quote.string(host) + " after "
                + attempts + " attempts, " + who, cause);
    }
}
