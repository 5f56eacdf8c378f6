package dev.mountkeeper.shared;

import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.TargetState;
import dev.mountkeeper.shared.proto.TargetState.Phase;
import dev.mountkeeper.shared.proto.TargetStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One target the daemon mounted (or found), its holders and where it stands. Guarded by the manager's lock. */
final class Entry {
    String context, base, path, spec;
    MountSpec parsed; // destination inside base; null for a recovered mount
    Phase phase;
    long mountId, belowId, order;
    int ownerUid;
    final Map<HolderWatcher.Key, Holder> holders = new LinkedHashMap<>();
    // Written by the unmount off the lock, read by status under it.
    volatile List<String> busyWith = List.of();
    volatile int attempts;
    /** Set while this entry is being mounted or unmounted off the lock; others wait for it. */
    java.util.concurrent.CompletableFuture<?> inFlight;

    /** The host path. */
    String target() {
        return base.equals("/") ? path : base + path;
    }

    static Entry planned(String context, Targets.Planned p, long order, int uid) {
        Entry e = new Entry();
        e.adopt(context, p);
        e.phase = Phase.MOUNTING;
        e.belowId = p.belowId();
        e.order = order;
        e.ownerUid = uid;
        return e;
    }

    void adopt(String context, Targets.Planned p) {
        this.context = context;
        this.base = p.base();
        this.path = p.path();
        this.spec = p.canonical();
        this.parsed = p.spec();
    }

    static Entry recovered(String base, String path, long mountId, long order) {
        Entry e = new Entry();
        e.context = MountManager.RECOVERED;
        e.base = base;
        e.path = path;
        e.spec = "";
        e.phase = Phase.RECOVERED;
        e.mountId = mountId;
        e.order = order;
        return e;
    }

    static Entry of(TargetState t) {
        Entry e = new Entry();
        e.context = t.getContext();
        e.base = t.getBase();
        e.path = t.getPath();
        e.spec = t.getSpec();
        e.parsed = t.getSpec().isEmpty() ? null : MountSpecs.parse(t.getSpec()).withDest(t.getPath());
        e.phase = t.getPhase();
        e.mountId = t.getMountId();
        e.belowId = t.getBelowId();
        e.order = t.getOrder();
        e.ownerUid = t.getOwnerUid();
        for (Holder h : t.getHoldersList()) e.holders.put(new HolderWatcher.Key(h.getPid(), h.getStartTime()), h);
        return e;
    }

    TargetState toState() {
        return TargetState.newBuilder().setContext(context).setBase(base).setPath(path).setSpec(spec).setPhase(phase)
                .setMountId(mountId).setBelowId(belowId).addAllHolders(holders.values()).setOrder(order)
                .setOwnerUid(ownerUid).build();
    }

    TargetStatus status(MountTable.Tree table) {
        TargetStatus.Builder b = TargetStatus.newBuilder().setTarget(target()).setSpec(spec).setContext(context)
                .setState(phase.name().toLowerCase()).setMountId(mountId).addAllHolders(holders.values())
                .setCount(holders.size()).addAllBusyWith(busyWith);
        for (MountEntry m : table.subtree(mountId).reversed()) {
            b.addMounts(m.source() + " on " + m.mountPoint() + " type " + m.fsType() + " (" + m.flags() + ")");
        }
        return b.build();
    }
}
