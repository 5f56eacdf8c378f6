package dev.mountkeeper.shared;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.shared.proto.TargetState;
import dev.mountkeeper.shared.proto.TargetState.Phase;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * A starting daemon's reconcile: what the state file says against what the kernel's mount table
 * shows. Mounts live holders need stay; holders that died meanwhile (pid plus start time plus
 * boot id) let go; an acquire cut short is undone; an unmount cut short is finished. When the
 * state is lost (stale, truncated, corrupt), nothing is unmounted on a guess: mounts below the
 * policy's target directories are adopted as {@value MountManager#RECOVERED}, to be swept or
 * acquired again.
 */
final class Recovery {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");

    private final KernelFeatures features;
    private final Policy policy;

    Recovery(KernelFeatures features, Policy policy) {
        this.features = features;
        this.policy = policy;
    }

    static List<MountEntry> table(KernelFeatures features) throws ApiException {
        try {
            return MountTable.of(features).read();
        } catch (IOException e) {
            throw new ApiException(ApiException.Kind.FAILED, "Failed to read the mount table: " + e.getMessage(), e);
        }
    }

    void recover(StateStore.Loaded loaded, List<Entry> entries, Set<String> sweeps, LongConsumer generation)
            throws IOException {
        for (String p : loaded.problems()) LOG.log(System.Logger.Level.WARNING, "State: " + p);
        State s = loaded.state();
        // A slot cut short was being written when the daemon died: its change was never answered,
        // and the other slot is the last state anyone was told about. Anything else is damage.
        boolean lost = !loaded.problems().isEmpty() || (loaded.existed() && s == null);
        for (String t : loaded.torn()) {
            LOG.log(lost ? System.Logger.Level.WARNING : System.Logger.Level.INFO, "State: " + t
                    + (s == null ? "" : "; a write cut short by a crash: generation " + s.getGeneration() + " is the last one answered"));
        }
        if (s != null && !s.getBootId().equals(Processes.bootId())) {
            LOG.log(System.Logger.Level.WARNING, "State: stale, written in boot " + s.getBootId() + ", this is boot "
                    + Processes.bootId() + "; its holders are gone; rebuilding from the kernel's mount table");
            generation.accept(s.getGeneration());
            s = null;
            lost = true;
        }
        if (lost && s != null) {
            LOG.log(System.Logger.Level.WARNING, "State: using generation " + s.getGeneration()
                    + "; mounts it does not know are adopted from the kernel's mount table");
        } else if (lost) {
            LOG.log(System.Logger.Level.WARNING, "State: none usable; rebuilding from the kernel's mount table");
        }
        List<MountEntry> table = MountTable.of(features).read();
        if (s != null) {
            generation.accept(s.getGeneration());
            sweeps.addAll(s.getSweepsDoneList());
            for (TargetState t : s.getTargetsList()) {
                Entry e = restore(t, table, lost);
                if (e != null) entries.add(e);
            }
        }
        if (lost) adopt(table, entries);
    }

    /** One recorded target, as far as it still holds; null when nothing of it is left to track. */
    private Entry restore(TargetState t, List<MountEntry> table, boolean lost) throws IOException {
        Entry e;
        try {
            e = Entry.of(t);
        } catch (IllegalArgumentException bad) {
            LOG.log(System.Logger.Level.WARNING, "State: dropping an unreadable target " + t.getBase() + t.getPath()
                    + ": " + bad.getMessage());
            return null;
        }
        if (e.phase == Phase.MOUNTING) {
            // With newer generations lost, the acquire may have completed and been answered: keep what it mounted.
            return lost ? keepInterrupted(e, table) : undoInterrupted(e, table);
        }
        if (table.stream().noneMatch(m -> m.id() == e.mountId && m.mountPoint().equals(e.target()))) {
            LOG.log(System.Logger.Level.WARNING, e.target() + " is no longer mounted; forgetting it");
            return null;
        }
        e.holders.values().removeIf(h -> {
            boolean alive = Processes.alive(h.getPid(), h.getStartTime(), h.getBootId());
            if (!alive) LOG.log(System.Logger.Level.INFO, "Holder pid " + h.getPid() + " of " + e.target()
                    + " ended while the daemon was away: released");
            return !alive;
        });
        return e;
    }

    /**
     * An acquire cut short after recording the target: whatever it mounted on top of what was there
     * goes. It is handed to the reaper as an unmounting entry rather than unmounted here, since the
     * unmount walks into the user's directories and the reconcile runs before anyone is served.
     */
    private Entry undoInterrupted(Entry e, List<MountEntry> table) {
        long top = mountedOnTop(e, table);
        if (top == 0) return null;
        LOG.log(System.Logger.Level.INFO, "Undoing an acquire cut short: unmounting " + e.target());
        e.mountId = top;
        e.phase = Phase.UNMOUNTING;
        return e;
    }

    /** The same, when it may have been answered: what it mounted is kept, as a recovered mount. */
    private Entry keepInterrupted(Entry e, List<MountEntry> table) {
        long top = mountedOnTop(e, table);
        if (top == 0) return null;
        LOG.log(System.Logger.Level.WARNING, "State: adopted " + e.target() + ", mounted by an acquire the lost state"
                + " may have answered, as context \"" + MountManager.RECOVERED + "\"");
        return Entry.recovered(e.base, e.path, top, e.order);
    }

    /**
     * The mount an interrupted acquire put on its target, or 0 if there is none: the top of the
     * mounts stacked on the target's path (the one no other mount there sits on), if it is not the
     * one that was there before. Read from the mount table alone, never by walking the user's path.
     */
    private static long mountedOnTop(Entry e, List<MountEntry> table) {
        List<MountEntry> there = table.stream().filter(m -> m.mountPoint().equals(e.target())).toList();
        Set<Long> under = new HashSet<>();
        there.forEach(m -> under.add(m.parentId()));
        return there.stream().filter(m -> !under.contains(m.id())).mapToLong(MountEntry::id)
                .filter(top -> top != e.belowId).findFirst().orElse(0);
    }

    /** Mounts below the policy's target directories that no entry accounts for. */
    private void adopt(List<MountEntry> table, List<Entry> entries) {
        long order = entries.stream().mapToLong(e -> e.order).max().orElse(0);
        for (String base : policy.allTargets()) {
            // A mount on the directory itself is not ours; what is below it may be.
            for (MountEntry m : untrackedTops(table, entries, base, false)) {
                entries.add(Entry.recovered(base, m.mountPoint().substring(base.length()), m.id(), ++order));
                LOG.log(System.Logger.Level.WARNING, "State: adopted " + m.mountPoint() + " (" + m.fsType() + " from "
                        + m.source() + ") from the kernel's mount table as context \"" + MountManager.RECOVERED + "\"");
            }
        }
    }

    /**
     * The mounts below {@code path} (and on it, if {@code including}) that no entry accounts for
     * (an entry's mount with all on it and below it), top ones only: each stands for its subtree.
     */
    static List<MountEntry> untrackedTops(List<MountEntry> table, List<Entry> entries, String path, boolean including) {
        Set<Long> tracked = new HashSet<>();
        MountTable.Tree tree = MountTable.Tree.of(table);
        for (Entry e : entries) tree.subtree(e.mountId).forEach(m -> tracked.add(m.id()));
        List<MountEntry> inside = table.stream().filter(m -> SpecPaths.isAtOrBelow(m.mountPoint(), path)
                && (including || !m.mountPoint().equals(path)) && !tracked.contains(m.id())).toList();
        Set<Long> ids = new HashSet<>();
        inside.forEach(m -> ids.add(m.id()));
        return inside.stream().filter(m -> !ids.contains(m.parentId())).toList();
    }
}
