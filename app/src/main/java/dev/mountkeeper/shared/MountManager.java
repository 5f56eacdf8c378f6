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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Reference-counted mounts shared by processes. A target is mounted on its first acquire and
 * unmounted when its last holder releases it or dies, in reverse order of mounting. Every change
 * is on disk before it is answered, and a restarted daemon reconciles what it wrote with the
 * kernel's mount table. One lock orders everything: requests, holder deaths and retries; nothing
 * that may wait on a user's filesystem runs under it (mounting and unmounting run off it, on
 * entries marked in flight that others wait for).
 */
public final class MountManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");
    /** The context of mounts found in the kernel's table when the state was lost. */
    public static final String RECOVERED = "recovered";
    private static final int START_RECLAIM_WAIT_SECONDS = 10;

    private final KernelFeatures features;
    private final Mounter mounter;
    private final LazyStaging staging;
    private final PolicyFile policy;
    private final DaemonMetrics metrics;
    private final StateStore store;
    private final HolderWatcher watcher;
    private final Unmounts unmounts;
    private final Faults faults;
    private final Reaper reaper;
    private final ReentrantLock lock = new ReentrantLock();
    private final Entries entries = new Entries();
    private final SweepKeys sweepsDone = new SweepKeys();
    private long generation, nextOrder = 1;
    private boolean mountedSincePersist;

    private MountManager(KernelFeatures features, PolicyFile policy, Path stateDir, Faults faults, DaemonMetrics metrics)
            throws IOException {
        this.features = features;
        this.metrics = metrics;
        this.staging = new LazyStaging(stateDir.resolve("staging"), features);
        this.mounter = new Mounter(features, false, UnmountPolicy.DEFAULT).withStager(staging).withProcParams(HostProc.params());
        this.policy = policy;
        this.store = new StateStore(stateDir, metrics);
        this.faults = faults;
        this.watcher = new HolderWatcher(this::holderDied);
        this.unmounts = new Unmounts(features, this::retryUnmounts, metrics);
        this.reaper = new Reaper(this::unmountInLane, this::committed);
    }

    /** Loads the state in {@code stateDir}, reconciles it with the kernel, and starts watching holders. */
    public static MountManager start(KernelFeatures features, Policy policy, Path stateDir, Faults faults)
            throws IOException {
        return start(features, PolicyFile.fixed(policy), stateDir, faults, new DaemonMetrics());
    }

    /** As above, with a policy that SIGHUP may reload and the metrics to count into. */
    public static MountManager start(KernelFeatures features, PolicyFile policy, Path stateDir, Faults faults,
                                     DaemonMetrics metrics) throws IOException {
        MountManager m = new MountManager(features, policy, stateDir, faults, metrics);
        java.util.Collection<CompletableFuture<String>> reclaimed;
        m.lock.lock();
        try {
            Set<String> sweeps = new LinkedHashSet<>();
            new Recovery(m.features, m.policy.current()).recover(m.store.load(), m.entries.list(), sweeps, m::restored);
            m.sweepsDone.restore(List.copyOf(sweeps));
            m.nextOrder = m.entries.stream().mapToLong(e -> e.order).max().orElse(0) + 1;
            for (Entry e : m.entries) e.holders.keySet().forEach(m.watcher::watch);
            List<Entry> doomed = m.entries.doom();
            m.persist();
            reclaimed = m.submit(doomed).values();
        } catch (ApiException e) {
            m.close();
            throw new IOException(e.getMessage(), e);
        } finally {
            m.lock.unlock();
        }
        // Served once what nobody needs is gone, or after a while anyway: an unmount stuck on a user's
        // filesystem must not keep the daemon from serving everyone else.
        try {
            CompletableFuture.allOf(reclaimed.toArray(CompletableFuture[]::new)).get(START_RECLAIM_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException stuck) {
            LOG.log(System.Logger.Level.WARNING, "Serving while some unmounts of the reconcile are still under way");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.log(System.Logger.Level.ERROR, "Reconcile: " + e.getCause());
        }
        return m;
    }

    public Limits limits() {
        return policy.current().limits();
    }

    private void restored(long generation) {
        this.generation = generation;
    }

    public Outcome acquire(Peer peer, AcquireRequest req) throws ApiException {
        Policy policy = this.policy.current(); // one policy for the whole request, whatever SIGHUP does meanwhile
        policy.limits().checkSpecs(peer, req.getSpecsCount());
        String context = Checks.context(req.getContext());
        Holder holder = Checks.holder(peer, req.getHolder());
        List<Targets.Planned> plan = Targets.plan(peer, req.getSpecsList(), policy, features, true);
        HolderWatcher.Key key = HolderWatcher.Key.of(holder);
        List<String> actions = new ArrayList<>();
        Reservation r;
        while ((r = reserve(policy, peer, context, plan, key, holder, actions)).waitFor() != null) {
            r.waitFor().exceptionally(t -> null).join(); // another request is mounting or unmounting one of these
        }
        if (r.fresh().isEmpty()) return finish(context, holder, key, r, List.of(), actions);
        // Mounting walks into the user's directories, which may be on a filesystem of theirs that never
        // answers: so it runs off the lock, on entries recorded as mounting that others wait for.
        List<Long> ids = new ArrayList<>();
        IOException failure = mountAll(peer, r.fresh(), plan, ids, actions);
        if (failure == null) return finish(context, holder, key, r, ids, actions);
        List<Entry> undone = undo(r.fresh().subList(0, ids.size()), ids, failure);
        lock.lock();
        try {
            for (int i = 0; i < ids.size(); i++) {
                Entry e = r.fresh().get(i);
                e.mountId = ids.get(i);
                e.phase = Phase.UNMOUNTING; // still mounted: kept, unheld, so it is retried and shown
            }
            entries.removeAll(undone);
            entries.removeAll(r.fresh().subList(ids.size(), r.fresh().size()));
            for (Entry e : r.held()) e.holders.remove(key);
            r.fresh().forEach(e -> e.inFlight = null);
            List<Entry> doomed = entries.doom();
            try {
                persist();
            } catch (ApiException ignored) {
                // already failing; the reconcile on restart covers it
            }
            submit(doomed);
        } finally {
            lock.unlock();
            r.done().complete(null);
        }
        boolean input = failure instanceof MountException me && me.reason() == MountException.Reason.INVALID_INPUT;
        throw new ApiException(failure instanceof Rights.Refused ? ApiException.Kind.FORBIDDEN
                : input ? ApiException.Kind.BAD_REQUEST : ApiException.Kind.FAILED, failure.getMessage(), failure);
    }

    /**
     * What an acquire found under the lock: entries it recorded as mounting ({@code fresh}, in
     * plan order), entries it now holds, all it touches; or a mount or unmount in flight to wait for.
     */
    private record Reservation(List<Entry> fresh, List<Entry> held, Map<Entry, Targets.Planned> adopting,
                               List<Entry> touched, CompletableFuture<Void> done, CompletableFuture<?> waitFor) {}

    private Reservation reserve(Policy policy, Peer peer, String context, List<Targets.Planned> plan, HolderWatcher.Key key,
                                Holder holder, List<String> actions) throws ApiException {
        lock.lock();
        try {
            List<Entry> fresh = new ArrayList<>(), touched = new ArrayList<>(), held = new ArrayList<>();
            Map<Entry, Targets.Planned> adopting = new LinkedHashMap<>();
            for (Targets.Planned p : plan) {
                Entry e = entries.find(p.target());
                if (e != null && e.inFlight != null) return new Reservation(null, null, null, null, null, e.inFlight);
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
            long adding = fresh.size() + touched.stream().filter(e -> !fresh.contains(e) && !Entries.involves(e, peer.uid())).count();
            policy.limits().checkMounts(peer, entries.mountsOf(peer.uid()), Math.toIntExact(adding));
            CompletableFuture<Void> done = new CompletableFuture<>();
            if (!fresh.isEmpty()) {
                fresh.forEach(e -> e.inFlight = done);
                entries.addAll(fresh);
                persistOrUndo(fresh);
            }
            // What is mounted already is held at once, so nothing collects it while the rest is mounted.
            // (A recovered mount is never collected: it is adopted only when the acquire succeeds.)
            for (Entry e : touched) {
                if (fresh.contains(e) || adopting.containsKey(e)) continue;
                if (e.holders.put(key, holder) == null) held.add(e);
                if (e.phase == Phase.UNMOUNTING) actions.add("kept " + e.target() + " (its unmount was pending)");
                e.phase = Phase.MOUNTED;
                e.busyWith = List.of();
            }
            return new Reservation(fresh, held, adopting, touched, done, null);
        } finally {
            lock.unlock();
        }
    }

    /** Records the mounts made and the holder; the answer. */
    private Outcome finish(String context, Holder holder, HolderWatcher.Key key, Reservation r, List<Long> ids,
                           List<String> actions) throws ApiException {
        lock.lock();
        try {
            r.adopting().forEach((e, p) -> {
                if (!entries.contains(e)) return; // swept meanwhile
                if (e.phase == Phase.RECOVERED) {
                    e.adopt(context, p);
                    e.phase = Phase.MOUNTED;
                    actions.add("adopted " + e.target() + " (found mounted when the state was lost)");
                }
                if (e.context.equals(context)) e.holders.put(key, holder); // unless another context adopted it first
            });
            for (int i = 0; i < ids.size(); i++) {
                Entry e = r.fresh().get(i);
                e.mountId = ids.get(i);
                e.phase = Phase.MOUNTED;
                e.inFlight = null;
                e.holders.put(key, holder);
                mountedSincePersist = true;
            }
            persist();
            watcher.watch(key); // a second watch of one holder is dropped by the watcher
            faults.at("acquired");
            return Entries.outcome(features, holder, r.touched(), actions);
        } finally {
            lock.unlock();
            r.done().complete(null);
        }
    }

    /**
     * Mounts the fresh entries in order, off the lock, adding each one's mount id; the first failure,
     * if any. Sources and destinations are opened with the client's own rights.
     */
    private IOException mountAll(Peer peer, List<Entry> fresh, List<Targets.Planned> plan, List<Long> ids,
                                 List<String> actions) {
        for (Entry e : fresh) {
            Targets.Planned p = plan.stream().filter(x -> x.target().equals(e.target())).findFirst().orElseThrow();
            Mounter asked = mounter.withSources(src -> Rights.openSource(peer, src, p.grant(), false))
                    .withDestinations(Rights.destinations(peer));
            try (Root root = Root.open(e.base); ProviderSources sources = ProviderSources.open(peer, e.parsed, p.grant())) {
                Mounted m = asked.mount(root, sources.spec());
                ids.add(m.mountId());
            } catch (IOException failure) {
                return failure;
            }
            faults.at("mounting");
            actions.add("mounted " + e.target());
        }
        return null;
    }

    /** Unmounts what a failed acquire mounted, latest first; the entries that are gone again. */
    private List<Entry> undo(List<Entry> done, List<Long> ids, IOException failure) {
        List<Entry> undone = new ArrayList<>();
        for (int i = done.size() - 1; i >= 0; i--) {
            Entry e = done.get(i);
            e.mountId = ids.get(i);
            try {
                unmounts.unmount(e, UnmountPolicy.DEFAULT);
                undone.add(e);
            } catch (IOException undo) {
                failure.addSuppressed(undo);
                LOG.log(System.Logger.Level.ERROR, "Failed to undo " + e.target() + ": " + undo.getMessage());
            }
        }
        return undone;
    }

    public Outcome release(Peer peer, ReleaseRequest req) throws ApiException {
        Policy policy = this.policy.current();
        policy.limits().checkSpecs(peer, req.getSpecsCount());
        String context = Checks.context(req.getContext());
        Holder holder = Checks.holder(peer, req.getHolder());
        if (req.getAll() == (req.getSpecsCount() > 0)) throw badRequest("Give either specs or \"all\", not both or neither");
        Set<String> targets = new LinkedHashSet<>();
        for (String s : req.getSpecsList()) targets.add(Targets.plan(peer, s, policy, features, false).target());
        HolderWatcher.Key key = HolderWatcher.Key.of(holder);
        List<String> actions = new ArrayList<>();
        List<Entry> released = new ArrayList<>();
        List<CompletableFuture<String>> mine = new ArrayList<>();
        lock.lock();
        try {
            Set<String> found = new HashSet<>();
            for (Entry e : entries) {
                if (!e.context.equals(context) || !e.holders.containsKey(key)) continue;
                if (req.getAll() || targets.contains(e.target())) {
                    e.holders.remove(key);
                    released.add(e);
                    found.add(e.target());
                    actions.add("released " + e.target());
                }
            }
            for (String t : targets) if (!found.contains(t)) actions.add("not held: " + t);
            Set<Entry> ours = new HashSet<>(released);
            List<Entry> doomed = entries.doom();
            persist(); // "unmounting" is on disk before any unmount starts
            for (Map.Entry<Entry, CompletableFuture<String>> d : submit(doomed).entrySet()) {
                if (ours.contains(d.getKey()) || d.getKey().ownerUid == peer.uid()) mine.add(d.getValue());
            }
            if (entries.stream().noneMatch(e -> e.holders.containsKey(key))) watcher.unwatch(key);
        } finally {
            lock.unlock();
        }
        mine.forEach(f -> actions.add(f.join()));
        return answer(holder, released, actions);
    }

    public Outcome sweep(Peer peer, SweepRequest req) throws ApiException {
        Policy policy = this.policy.current();
        boolean byContext = !req.getContext().isEmpty();
        if (byContext == !req.getUnder().isEmpty()) throw badRequest("Give either a context or a path to sweep under");
        String context = byContext ? Checks.context(req.getContext()) : null;
        String under = byContext ? null : Checks.path("under", req.getUnder());
        String once = req.getOnce().isEmpty() ? null : Checks.name("once key", req.getOnce());
        String scope = SweepKeys.scope(context, under);
        List<String> actions = new ArrayList<>();
        List<Entry> selected;
        List<CompletableFuture<String>> waits = new ArrayList<>();
        List<MountEntry> untracked;
        lock.lock();
        try {
            if (once != null && sweepsDone.done(peer.uid(), scope, once)) {
                return Outcome.newBuilder().setSkipped(true).addActions("already swept once for " + Quote.string(once)).build();
            }
            // A context is only a name, which anyone may use: a user's sweep of one is of their own mounts
            // in it, so another user's entries there can neither fail it nor be taken by it. (A sweep under
            // a path still refuses to leave another user's mounts there unsaid.)
            selected = entries.stream()
                    .filter(e -> byContext ? e.context.equals(context) && (peer.isRoot() || e.ownerUid == peer.uid())
                            : SpecPaths.isAtOrBelow(e.target(), under)).toList();
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
            untracked = byContext || !peer.isRoot() ? List.of()
                    : Recovery.untrackedTops(Recovery.table(features), entries.list(), under, true);
            if (req.getReportOnly()) {
                for (Entry e : selected) actions.add("would unmount " + e.target() + " (" + e.holders.size() + " holders)");
                for (MountEntry m : untracked) actions.add("would unmount untracked " + m.mountPoint() + " (" + m.fsType() + ")");
                return Entries.outcome(features, null, selected, actions);
            }
            Set<HolderWatcher.Key> dropped = new HashSet<>();
            for (Entry e : selected) {
                if (!e.holders.isEmpty()) actions.add("dropped " + e.holders.size() + " holders of " + e.target());
                dropped.addAll(e.holders.keySet());
                e.holders.clear();
                if (e.phase == Phase.RECOVERED) e.phase = Phase.UNMOUNTING;
            }
            for (Entry e : entries) dropped.removeAll(e.holders.keySet());
            dropped.forEach(watcher::unwatch);
            Set<Entry> chosen = new HashSet<>(selected);
            List<Entry> doomed = entries.doom();
            if (once != null) sweepsDone.add(peer.uid(), scope, once);
            persist();
            submit(doomed).forEach((e, f) -> {
                if (chosen.contains(e)) waits.add(f);
            });
        } finally {
            lock.unlock();
        }
        waits.forEach(f -> actions.add(f.join()));
        for (MountEntry m : untracked) actions.add(unmounts.untracked(m));
        return answer(null, selected, actions);
    }

    /** What the daemon holds; a user sees only the mounts made for them (others' paths are not theirs to learn). */
    public Status status(Peer peer, String context) throws ApiException {
        lock.lock();
        try {
            MountTable.Tree table = MountTable.Tree.of(Recovery.table(features));
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
            int n = 0;
            for (Entry e : entries) if (e.holders.remove(key) != null) n++;
            if (n == 0) return;
            metrics.holderReclaimed();
            LOG.log(System.Logger.Level.INFO, "Holder pid " + key.pid() + " ended: released " + n + " references");
            List<Entry> doomed = entries.doom();
            persist();
            submit(doomed); // the unmounts run in their owners' lanes: the watcher goes on watching
        } catch (ApiException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    private void retryUnmounts() {
        lock.lock();
        try {
            List<Entry> doomed = entries.doom();
            persist();
            submit(doomed);
        } catch (ApiException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    /** Hands doomed entries to the reaper; they are unmounting (on disk with the next write) and waited for meanwhile. */
    private Map<Entry, CompletableFuture<String>> submit(List<Entry> doomed) {
        Map<Entry, CompletableFuture<String>> out = new LinkedHashMap<>();
        for (Entry e : doomed) {
            CompletableFuture<String> f = reaper.submit(e);
            e.inFlight = f;
            out.put(e, f);
        }
        return out;
    }

    /** An unmount in the reaper's lane, off the lock. */
    private Unmounts.Result unmountInLane(Entry e) {
        faults.at("unmounting");
        try {
            return unmounts.release(e, policy.current().lazyUnmount(e.context));
        } catch (RuntimeException bug) {
            LOG.log(System.Logger.Level.ERROR, "Failed to unmount " + e.target(), bug);
            return new Unmounts.Result(false, "failed to unmount " + e.target() + ": " + bug + "; retrying");
        }
    }

    /** Records a batch of unmounts under the lock, then looks for what can go now that they are gone. */
    private void committed(List<Reaper.Done> batch) {
        lock.lock();
        try {
            List<Entry> gone = new ArrayList<>();
            for (Reaper.Done d : batch) {
                d.entry().inFlight = null;
                if (d.result().done()) gone.add(d.entry());
                else unmounts.retry(d.entry());
            }
            entries.removeAll(gone);
            List<Entry> doomed = gone.isEmpty() ? List.of() : entries.doom(); // what waited for these to go
            persist();
            submit(doomed);
        } catch (ApiException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        } finally {
            lock.unlock();
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
                .setNextOrder(nextOrder).addAllSweepsDone(sweepsDone.persisted());
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

    private Outcome answer(Holder holder, List<Entry> targets, List<String> actions) throws ApiException {
        lock.lock();
        try {
            return Entries.outcome(features, holder, targets, actions);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        reaper.close();
        unmounts.close();
        watcher.close();
        staging.close();
    }
}
