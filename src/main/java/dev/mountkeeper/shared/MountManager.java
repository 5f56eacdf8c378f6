package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ApiException.badRequest;

import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.mount.UnmountPolicy;
import dev.mountkeeper.shared.proto.AcquireRequest;
import dev.mountkeeper.shared.proto.ContextStatus;
import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.Outcome;
import dev.mountkeeper.shared.proto.ReleaseRequest;
import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.shared.proto.Status;
import dev.mountkeeper.shared.proto.SweepRequest;
import dev.mountkeeper.shared.proto.TargetState.Phase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Reference-counted mounts shared by processes. A target is mounted on its first acquire and
 * unmounted when its last holder releases it or dies, in reverse order of mounting. Every change
 * is on disk before it is answered, and a restarted daemon reconciles what it wrote with the
 * kernel's mount table. One lock orders everything: requests, holder deaths and retries.
 */
public final class MountManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");
    /** The context of mounts found in the kernel's table when the state was lost. */
    public static final String RECOVERED = "recovered";
    private static final int MAX_SWEEP_KEYS = 256;

    private final KernelFeatures features;
    private final Mounter mounter;
    private final LazyStaging staging;
    private final Policy policy;
    private final StateStore store;
    private final HolderWatcher watcher;
    private final Unmounts unmounts;
    private final Faults faults;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Entry> entries = new ArrayList<>(); // in mount order
    private final LinkedHashSet<String> sweepsDone = new LinkedHashSet<>();
    private long generation, nextOrder = 1;
    private boolean mountedSincePersist;

    private MountManager(KernelFeatures features, Policy policy, Path stateDir, Faults faults) throws IOException {
        this.features = features;
        this.staging = new LazyStaging(stateDir.resolve("staging"), features);
        this.mounter = new Mounter(features, false, UnmountPolicy.DEFAULT).withStager(staging).withProcParams(HostProc.params());
        this.policy = policy;
        this.store = new StateStore(stateDir);
        this.faults = faults;
        this.watcher = new HolderWatcher(this::holderDied);
        this.unmounts = new Unmounts(features, this::retryUnmounts);
    }

    /** Loads the state in {@code stateDir}, reconciles it with the kernel, and starts watching holders. */
    public static MountManager start(KernelFeatures features, Policy policy, Path stateDir, Faults faults)
            throws IOException {
        MountManager m = new MountManager(features, policy, stateDir, faults);
        m.lock.lock();
        try {
            new Recovery(m.features, m.policy).recover(m.store.load(), m.entries, m.sweepsDone, m::restored);
            m.nextOrder = m.entries.stream().mapToLong(e -> e.order).max().orElse(0) + 1;
            for (Entry e : m.entries) e.holders.keySet().forEach(m.watcher::watch);
            m.collect(new ArrayList<>());
            m.persist();
        } catch (ApiException e) {
            m.close();
            throw new IOException(e.getMessage(), e);
        } finally {
            m.lock.unlock();
        }
        return m;
    }

    private void restored(long generation) {
        this.generation = generation;
    }

    public Outcome acquire(Peer peer, AcquireRequest req) throws ApiException {
        String context = Checks.context(req.getContext());
        Holder holder = Checks.holder(peer, req.getHolder());
        List<Targets.Planned> plan = Targets.plan(peer, req.getSpecsList(), policy, features, true);
        HolderWatcher.Key key = key(holder);
        List<String> actions = new ArrayList<>();
        lock.lock();
        try {
            List<Entry> fresh = new ArrayList<>(), touched = new ArrayList<>();
            Map<Entry, Targets.Planned> adopting = new LinkedHashMap<>();
            for (Targets.Planned p : plan) {
                Entry e = find(p.target());
                if (e == null) {
                    if (p.refused() != null) throw ApiException.forbidden(p.refused());
                    e = Entry.planned(context, p, nextOrder++, peer.uid());
                    fresh.add(e);
                } else if (e.phase == Phase.RECOVERED) {
                    // Whose it was is lost with the state: no user may take it over (and so pin it).
                    if (!peer.isRoot()) throw new ApiException(ApiException.Kind.CONFLICT, "Target " + Quote.string(e.target())
                            + " was found mounted when the state was lost; only root may take it over or sweep it");
                    adopting.put(e, p);
                } else if (!peer.isRoot() && e.ownerUid != peer.uid()) {
                    // Holding another user's mount would keep it from its owner's release and sweep.
                    throw ApiException.forbidden("Target " + Quote.string(e.target()) + " is mounted for uid " + e.ownerUid
                            + "; " + peer + " may not hold it");
                } else if (!e.context.equals(context)) {
                    throw new ApiException(ApiException.Kind.CONFLICT, "Target " + Quote.string(e.target())
                            + " is mounted for context " + Quote.string(e.context) + ", not " + Quote.string(context));
                } else if (!e.spec.equals(p.canonical())) {
                    throw new ApiException(ApiException.Kind.CONFLICT, "Target " + Quote.string(e.target())
                            + " is mounted as " + Quote.string(e.spec) + "; refusing " + Quote.string(p.canonical()));
                }
                touched.add(e);
            }
            if (!fresh.isEmpty()) {
                entries.addAll(fresh);
                persistOrUndo(fresh);
                mountAll(peer, fresh, plan, actions);
            }
            boolean watched = entries.stream().anyMatch(e -> e.holders.containsKey(key));
            adopting.forEach((e, p) -> {
                e.adopt(context, p);
                actions.add("adopted " + e.target() + " (found mounted when the state was lost)");
            });
            for (Entry e : touched) {
                e.holders.put(key, holder);
                if (e.phase == Phase.UNMOUNTING) actions.add("kept " + e.target() + " (its unmount was pending)");
                e.phase = Phase.MOUNTED;
                e.busyWith = List.of();
            }
            persist();
            if (!watched) watcher.watch(key);
            faults.at("acquired");
            return outcome(holder, touched, actions);
        } finally {
            lock.unlock();
        }
    }

    /** Mounts the fresh entries in order; on a failure, undoes this acquire's mounts and entries. */
    private void mountAll(Peer peer, List<Entry> fresh, List<Targets.Planned> plan, List<String> actions)
            throws ApiException {
        List<Entry> done = new ArrayList<>();
        try {
            for (Entry e : fresh) {
                Targets.Planned p = plan.stream().filter(x -> x.target().equals(e.target())).findFirst().orElseThrow();
                Mounter asked = mounter.withSources(src -> Rights.openSource(peer, src, p.grant(), false))
                        .withDestinations(Rights.destinations(peer));
                try (Root root = Root.open(e.base); ProviderSources sources = ProviderSources.open(peer, e.parsed, p.grant())) {
                    Mounted m = asked.mount(root, sources.spec());
                    e.mountId = m.mountId();
                    e.phase = Phase.MOUNTED;
                    done.add(e);
                    mountedSincePersist = true;
                }
                faults.at("mounting");
                actions.add("mounted " + e.target());
            }
        } catch (IOException failure) {
            for (Entry e : done.reversed()) {
                try {
                    unmounts.unmount(e, UnmountPolicy.DEFAULT);
                } catch (IOException undo) {
                    failure.addSuppressed(undo);
                    LOG.log(System.Logger.Level.ERROR, "Failed to undo " + e.target() + ": " + undo.getMessage());
                    continue; // still mounted: keep its entry, unheld, so it is retried and shown
                }
                entries.remove(e);
            }
            fresh.stream().filter(e -> !done.contains(e)).forEach(entries::remove);
            done.stream().filter(entries::contains).forEach(e -> e.phase = Phase.UNMOUNTING);
            try {
                persist();
            } catch (ApiException ignored) {
                // already failing; the reconcile on restart covers it
            }
            boolean input = failure instanceof MountException me && me.reason() == MountException.Reason.INVALID_INPUT;
            throw new ApiException(failure instanceof Rights.Refused ? ApiException.Kind.FORBIDDEN
                    : input ? ApiException.Kind.BAD_REQUEST : ApiException.Kind.FAILED, failure.getMessage(), failure);
        }
    }

    public Outcome release(Peer peer, ReleaseRequest req) throws ApiException {
        String context = Checks.context(req.getContext());
        Holder holder = Checks.holder(peer, req.getHolder());
        if (req.getAll() == (req.getSpecsCount() > 0)) throw badRequest("Give either specs or \"all\", not both or neither");
        List<String> targets = new ArrayList<>();
        for (String s : req.getSpecsList()) targets.add(Targets.plan(peer, s, policy, features, false).target());
        HolderWatcher.Key key = key(holder);
        List<String> actions = new ArrayList<>();
        lock.lock();
        try {
            List<Entry> released = new ArrayList<>();
            for (Entry e : entries) {
                if (!e.context.equals(context) || !e.holders.containsKey(key)) continue;
                if (req.getAll() || targets.contains(e.target())) {
                    e.holders.remove(key);
                    released.add(e);
                    actions.add("released " + e.target());
                }
            }
            for (String t : targets) {
                if (released.stream().noneMatch(e -> e.target().equals(t))) actions.add("not held: " + t);
            }
            collect(actions);
            persist();
            if (entries.stream().noneMatch(e -> e.holders.containsKey(key))) watcher.unwatch(key);
            return outcome(holder, released, actions);
        } finally {
            lock.unlock();
        }
    }

    public Outcome sweep(Peer peer, SweepRequest req) throws ApiException {
        boolean byContext = !req.getContext().isEmpty();
        if (byContext == !req.getUnder().isEmpty()) throw badRequest("Give either a context or a path to sweep under");
        String context = byContext ? Checks.context(req.getContext()) : null;
        String under = byContext ? null : Checks.path("under", req.getUnder());
        List<String> actions = new ArrayList<>();
        lock.lock();
        try {
            if (!req.getOnce().isEmpty() && sweepsDone.contains(req.getOnce())) {
                return Outcome.newBuilder().setSkipped(true).addActions("already swept once for " + Quote.string(req.getOnce())).build();
            }
            List<Entry> selected = entries.stream()
                    .filter(e -> byContext ? e.context.equals(context) : SpecPaths.isAtOrBelow(e.target(), under)).toList();
            for (Entry e : selected) {
                // Beyond the policy, a user sweeps only what they mounted and only they hold.
                boolean theirs = peer.isRoot() || (e.ownerUid == peer.uid()
                        && e.holders.values().stream().allMatch(h -> h.getUid() == peer.uid()));
                if (!policy.mayTouch(peer, e.target()) || !theirs) {
                    throw ApiException.forbidden("The policy does not allow " + peer + " to unmount " + Quote.string(e.target())
                            + (theirs ? "" : " (mounted or held by another user)"));
                }
            }
            // Mounts the daemon did not make: only root may sweep those.
            List<MountEntry> untracked = byContext || !peer.isRoot() ? List.of()
                    : Recovery.untrackedTops(Recovery.table(features), entries, under, true);
            if (req.getReportOnly()) {
                for (Entry e : selected) actions.add("would unmount " + e.target() + " (" + e.holders.size() + " holders)");
                for (MountEntry m : untracked) actions.add("would unmount untracked " + m.mountPoint() + " (" + m.fsType() + ")");
                return outcome(null, selected, actions);
            }
            for (Entry e : selected) {
                if (!e.holders.isEmpty()) actions.add("dropped " + e.holders.size() + " holders of " + e.target());
                e.holders.keySet().forEach(k -> {
                    if (entries.stream().filter(x -> !selected.contains(x)).noneMatch(x -> x.holders.containsKey(k))) {
                        watcher.unwatch(k);
                    }
                });
                e.holders.clear();
                if (e.phase == Phase.RECOVERED) e.phase = Phase.UNMOUNTING;
            }
            collect(actions);
            for (MountEntry m : untracked) actions.add(unmounts.untracked(m));
            if (!req.getOnce().isEmpty()) {
                sweepsDone.add(req.getOnce());
                if (sweepsDone.size() > MAX_SWEEP_KEYS) sweepsDone.removeFirst();
            }
            persist();
            return outcome(null, selected, actions);
        } finally {
            lock.unlock();
        }
    }


    /** What the daemon holds; a user sees only the mounts made for them (others' paths are not theirs to learn). */
    public Status status(Peer peer, String context) throws ApiException {
        lock.lock();
        try {
            List<MountEntry> table = Recovery.table(features);
            Map<String, ContextStatus.Builder> byContext = new LinkedHashMap<>();
            for (Entry e : entries) {
                if (context != null && !context.isEmpty() && !e.context.equals(context)) continue;
                if (!peer.isRoot() && (e.ownerUid != peer.uid() || e.phase == Phase.RECOVERED)) continue;
                byContext.computeIfAbsent(e.context, c -> ContextStatus.newBuilder().setName(c)).addTargets(e.status(table));
            }
            Status.Builder b = Status.newBuilder().setBootId(Processes.bootId());
            byContext.values().forEach(b::addContexts);
            return b.build();
        } finally {
            lock.unlock();
        }
    }

    private void holderDied(HolderWatcher.Key key) {
        lock.lock();
        try {
            List<String> actions = new ArrayList<>();
            int n = 0;
            for (Entry e : entries) if (e.holders.remove(key) != null) n++;
            if (n == 0) return;
            LOG.log(System.Logger.Level.INFO, "Holder pid " + key.pid() + " ended: released " + n + " references");
            collect(actions);
            persist();
        } catch (ApiException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    private void retryUnmounts() {
        lock.lock();
        try {
            collect(new ArrayList<>());
            persist();
        } catch (ApiException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Unmounts every entry nobody holds, latest first, except one with a held target below it
     * (unmounting it would take that one along). Busy ones stay, to be retried with backoff.
     */
    private void collect(List<String> actions) throws ApiException {
        List<Entry> doomed = new ArrayList<>();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Entry e : entries) {
                if (doomed.contains(e) || !e.holders.isEmpty() || e.phase == Phase.RECOVERED || e.phase == Phase.MOUNTING) continue;
                boolean innerKept = entries.stream().anyMatch(f -> f != e && !doomed.contains(f)
                        && SpecPaths.isAtOrBelow(f.target(), e.target()) && !f.target().equals(e.target()));
                if (!innerKept) {
                    doomed.add(e);
                    grew = true;
                }
            }
        }
        if (doomed.isEmpty()) return;
        doomed.sort(Comparator.comparingLong((Entry e) -> e.order).reversed());
        doomed.forEach(e -> e.phase = Phase.UNMOUNTING);
        persist();
        for (Entry e : doomed) {
            faults.at("unmounting");
            Unmounts.Result r = unmounts.release(e, policy.lazyUnmount(e.context));
            if (r.done()) entries.remove(e);
            actions.add(r.action());
        }
    }

    private void persistOrUndo(List<Entry> fresh) throws ApiException {
        try {
            persist();
        } catch (ApiException e) {
            entries.removeAll(fresh);
            throw e;
        }
    }

    private void persist() throws ApiException {
        State.Builder s = State.newBuilder().setBootId(Processes.bootId()).setGeneration(++generation)
                .setNextOrder(nextOrder).addAllSweepsDone(sweepsDone);
        for (Entry e : entries) s.addTargets(e.toState());
        try {
            boolean torn = mountedSincePersist && faults.is("torn-after-mount");
            store.write(s.build(), torn);
            mountedSincePersist = false;
            if (torn) faults.at("torn-after-mount");
        } catch (IOException e) {
            throw new ApiException(ApiException.Kind.FAILED, "Failed to write the state: " + e.getMessage(), e);
        }
    }

    private Entry find(String target) {
        return entries.stream().filter(e -> e.target().equals(target)).findFirst().orElse(null);
    }

    private static HolderWatcher.Key key(Holder h) {
        return new HolderWatcher.Key(h.getPid(), h.getStartTime());
    }

    private Outcome outcome(Holder holder, List<Entry> targets, List<String> actions) throws ApiException {
        List<MountEntry> table = Recovery.table(features);
        Outcome.Builder b = Outcome.newBuilder().addAllActions(actions);
        if (holder != null) b.setHolder(holder);
        for (Entry e : targets) b.addTargets(e.status(table));
        return b.build();
    }

    @Override
    public void close() {
        unmounts.close();
        watcher.close();
        staging.close();
    }
}
