package dev.mountkeeper.shared;

import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.Holders;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.Unmounter;
import dev.mountkeeper.mount.UnmountPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Unmounting an entry without holding up everyone: one attempt (off the manager's lock, see
 * {@link Reaper}), and when the mount is busy a retry later with doubling backoff, naming the
 * processes that hold it. Lazy
 * detach only where the context is configured for it, after {@link #LAZY_AFTER} attempts.
 */
final class Unmounts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");
    static final int LAZY_AFTER = 5;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(20), MAX_BACKOFF = Duration.ofSeconds(5);

    record Result(boolean done, String action) {}

    private final KernelFeatures features;
    private final Unmounter unmounter;
    private final Runnable retry;
    private final DaemonMetrics metrics;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("unmount-retry").daemon().unstarted(r));
    private ScheduledFuture<?> pending;

    Unmounts(KernelFeatures features, Runnable retry, DaemonMetrics metrics) {
        this.features = features;
        this.metrics = metrics;
        this.unmounter = new Unmounter(features, UnmountPolicy.DEFAULT);
        this.retry = retry;
    }

    /** A mount table read shortly before, shared by one thread's unmounts (see {@link Unmounter#unmount}). */
    private record Snapshot(List<MountEntry> table, Set<Long> ids, long readAt, int uses) {}

    private static final long SNAPSHOT_NANOS = 200_000_000L;
    private static final int SNAPSHOT_USES = 64;
    private final ThreadLocal<Snapshot> snapshot = new ThreadLocal<>();

    /**
     * One read of the table serves up to {@value #SNAPSHOT_USES} unmounts in 200 ms: reading it for
     * each made reclaiming N mounts quadratic (each read is a statmount per mount).
     */
    private Snapshot table(long mountId) throws IOException {
        Snapshot s = snapshot.get();
        // A mount made after the read is not in it: that one needs a fresh read, never "already gone".
        if (s == null || s.uses() >= SNAPSHOT_USES || System.nanoTime() - s.readAt() > SNAPSHOT_NANOS
                || !s.ids().contains(mountId)) {
            List<MountEntry> t = MountTable.of(features).read();
            Set<Long> ids = new HashSet<>();
            t.forEach(m -> ids.add(m.id()));
            s = new Snapshot(t, ids, System.nanoTime(), 0);
        }
        snapshot.set(new Snapshot(s.table(), s.ids(), s.readAt(), s.uses() + 1));
        return s;
    }

    /** Unmounts {@code e} once; if that cannot be done now, the caller asks for a {@link #retry}. */
    Result release(Entry e, boolean lazyContext) {
        try {
            Snapshot table = table(e.mountId);
            if (!table.ids().contains(e.mountId)) {
                LOG.log(System.Logger.Level.WARNING, e.target() + " was unmounted by someone else");
                return new Result(true, "already unmounted: " + e.target());
            }
            e.attempts++;
            boolean lazy = lazyContext && e.attempts >= LAZY_AFTER;
            Unmounter.Outcome o;
            try (Root root = Root.open(e.base)) {
                o = unmounter.unmount(root, new Mounted(e.parsed, e.path, e.mountId), new UnmountPolicy(1, Duration.ZERO, lazy),
                        table.table());
            }
            return new Result(true, (o == Unmounter.Outcome.DETACHED_LAZILY ? "detached lazily " : "unmounted ") + e.target());
        } catch (MountException ex) {
            snapshot.remove(); // busy or failed: the next try reads the table afresh
            Duration wait = backoff(e.attempts);
            if (ex.reason() == MountException.Reason.BUSY) {
                e.busyWith = holders(e);
                if (Integer.bitCount(e.attempts) == 1) {
                    LOG.log(System.Logger.Level.WARNING, "Unmounting " + e.target() + " is busy (attempt " + e.attempts
                            + "), held by " + (e.busyWith.isEmpty() ? "no process found" : String.join(", ", e.busyWith))
                            + "; retrying in " + wait.toMillis() + " ms");
                }
            } else {
                LOG.log(System.Logger.Level.ERROR, ex.getMessage() + "; retrying in " + wait.toMillis() + " ms");
            }
            return new Result(false, "busy: " + e.target() + (e.busyWith.isEmpty() ? "" : " (held by "
                    + String.join(", ", e.busyWith) + ")") + "; retrying");
        } catch (IOException ex) {
            LOG.log(System.Logger.Level.ERROR, "Failed to unmount " + e.target() + ": " + ex.getMessage());
            return new Result(false, "failed to unmount " + e.target() + ": " + ex.getMessage() + "; retrying");
        }
    }

    Unmounter.Outcome unmount(Entry e, UnmountPolicy p) throws IOException {
        try (Root root = Root.open(e.base)) {
            return unmounter.unmount(root, new Mounted(e.parsed, e.path, e.mountId), p);
        }
    }

    /** Unmounts a mount no entry made (a sweep under a path). */
    String untracked(MountEntry m) {
        try (Root root = Root.open("/")) {
            unmounter.unmountPath(root, m.mountPoint(), UnmountPolicy.DEFAULT);
            return "unmounted untracked " + m.mountPoint();
        } catch (IOException e) {
            return "failed to unmount untracked " + m.mountPoint() + ": " + e.getMessage();
        }
    }

    private List<String> holders(Entry e) {
        try {
            Set<Long> ids = new HashSet<>();
            MountTable.subtree(MountTable.of(features).read(), e.mountId).forEach(m -> ids.add(m.id()));
            return Holders.find(ids, e.target(), features).stream().map(Holders.Holder::toString).toList();
        } catch (IOException ex) {
            return List.of("unknown (" + Quote.string(ex.getMessage()) + ")");
        }
    }

    /** Tries the unmounts again after {@code e}'s backoff. */
    void retry(Entry e) {
        metrics.unmountRetried();
        schedule(backoff(e.attempts));
    }

    private static Duration backoff(int attempts) {
        Duration d = FIRST_BACKOFF.multipliedBy(1L << Math.min(20, Math.max(0, attempts - 1)));
        return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
    }

    private synchronized void schedule(Duration wait) {
        if (pending != null && !pending.isDone() && pending.getDelay(TimeUnit.NANOSECONDS) <= wait.toNanos()) return;
        if (pending != null) pending.cancel(false);
        pending = timer.schedule(this::fire, wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        synchronized (this) {
            pending = null; // a retry that finds the mount still busy schedules the next one
        }
        retry.run();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
