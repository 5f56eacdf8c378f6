package dev.mountkeeper.shared;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.Outcome;
import dev.mountkeeper.shared.proto.TargetState.Phase;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** The manager's entries in mount order, and what it asks of them; guarded by the manager's lock. */
final class Entries implements Iterable<Entry> {
    private final List<Entry> list = new ArrayList<>();

    /** The live list, for the reconcile that fills it and the sweep that reads it. */
    List<Entry> list() {
        return list;
    }

    @Override
    public Iterator<Entry> iterator() {
        return list.iterator();
    }

    Stream<Entry> stream() {
        return list.stream();
    }

    boolean contains(Entry e) {
        return list.contains(e);
    }

    void addAll(List<Entry> fresh) {
        list.addAll(fresh);
    }

    /** Removes a batch in one pass over the list. */
    void removeAll(Collection<Entry> gone) {
        if (gone.isEmpty()) return;
        Set<Entry> g = new HashSet<>(gone);
        list.removeIf(g::contains);
    }

    Entry find(String target) {
        return list.stream().filter(e -> e.target().equals(target)).findFirst().orElse(null);
    }

    /**
     * The entries nobody holds that can go now, latest first, marked unmounting: all but those
     * with an entry below them that stays (unmounting them would take that one along). Linear in
     * the entries: each entry that stays marks its ancestors' paths, once each.
     */
    List<Entry> doom() {
        Set<String> aboveKept = new HashSet<>();
        for (Entry e : list) {
            if (collectable(e)) continue;
            for (String p = e.target(); !p.equals("/"); ) {
                p = SpecPaths.parent(p);
                if (!aboveKept.add(p)) break; // its ancestors are marked already
            }
        }
        List<Entry> doomed = new ArrayList<>();
        for (Entry e : list) if (collectable(e) && !aboveKept.contains(e.target())) doomed.add(e);
        doomed.sort(Comparator.comparingLong((Entry e) -> e.order).reversed());
        doomed.forEach(e -> e.phase = Phase.UNMOUNTING);
        return doomed;
    }

    private static boolean collectable(Entry e) {
        return e.holders.isEmpty() && e.inFlight == null && e.phase != Phase.RECOVERED && e.phase != Phase.MOUNTING;
    }

    /** Whether {@code uid} mounted {@code e} or holds it: what counts against their limit while it is mounted. */
    static boolean involves(Entry e, int uid) {
        return e.ownerUid == uid || e.holders.values().stream().anyMatch(h -> h.getUid() == uid);
    }

    int mountsOf(int uid) {
        return (int) list.stream().filter(e -> involves(e, uid)).count();
    }

    /** The answer to a request: its actions, the holder if any, and how the kernel shows each target now. */
    static Outcome outcome(KernelFeatures features, Holder holder, List<Entry> targets, List<String> actions)
            throws ApiException {
        MountTable.Tree table = MountTable.Tree.of(Recovery.table(features));
        Outcome.Builder b = Outcome.newBuilder().addAllActions(actions);
        if (holder != null) b.setHolder(holder);
        for (Entry e : targets) b.addTargets(e.status(table));
        return b.build();
    }
}
