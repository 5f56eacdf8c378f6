package dev.mountkeeper.mount;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The kernel's mount table of the calling thread's mount namespace. */
public interface MountTable {
    List<MountEntry> read() throws IOException;

    static MountTable of(KernelFeatures features) {
        return features.listmount() ? new ListmountTable(features.uniqueMountIds()) : new MountinfoTable();
    }

    /** The mounts at or below {@code path}, deepest first: every mount comes before the one it sits on. */
    static List<MountEntry> below(List<MountEntry> table, String path) {
        List<MountEntry> inside = table.stream()
                .filter(e -> SpecPaths.isAtOrBelow(e.mountPoint(), path)).toList();
        return childrenFirst(inside);
    }

    /** {@code top} and every mount on top of it or below it, children first (the order to unmount in). */
    static List<MountEntry> subtree(List<MountEntry> table, long top) {
        return Tree.of(table).subtree(top);
    }

    /** The table's parent links indexed once, for many subtree lookups (a status of many targets). */
    record Tree(Map<Long, MountEntry> byId, Map<Long, List<MountEntry>> children) {
        public static Tree of(List<MountEntry> table) {
            Map<Long, MountEntry> byId = new HashMap<>();
            Map<Long, List<MountEntry>> children = new HashMap<>();
            for (MountEntry e : table) {
                byId.putIfAbsent(e.id(), e);
                if (e.id() != e.parentId()) children.computeIfAbsent(e.parentId(), k -> new ArrayList<>()).add(e);
            }
            return new Tree(byId, children);
        }

        /** As {@link MountTable#subtree}. */
        public List<MountEntry> subtree(long top) {
            MountEntry root = byId.get(top);
            List<MountEntry> out = new ArrayList<>();
            if (root != null) postOrder(root, children, out, new HashSet<>());
            return out;
        }
    }

    private static List<MountEntry> childrenFirst(List<MountEntry> entries) {
        Set<Long> ids = new HashSet<>();
        for (MountEntry e : entries) ids.add(e.id());
        Map<Long, List<MountEntry>> children = new HashMap<>();
        List<MountEntry> roots = new ArrayList<>();
        for (MountEntry e : entries) {
            if (e.id() != e.parentId() && ids.contains(e.parentId())) {
                children.computeIfAbsent(e.parentId(), k -> new ArrayList<>()).add(e);
            } else {
                roots.add(e);
            }
        }
        roots.sort(Comparator.comparing(MountEntry::mountPoint).reversed());
        List<MountEntry> out = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (MountEntry r : roots) postOrder(r, children, out, seen);
        return out;
    }

    private static void postOrder(MountEntry e, Map<Long, List<MountEntry>> children, List<MountEntry> out,
                                  Set<Long> seen) {
        if (!seen.add(e.id())) return;
        List<MountEntry> kids = new ArrayList<>(children.getOrDefault(e.id(), List.of()));
        kids.sort(Comparator.comparing(MountEntry::mountPoint).reversed());
        for (MountEntry k : kids) postOrder(k, children, out, seen);
        out.add(e);
    }
}
