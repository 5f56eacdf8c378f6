package dev.mountkeeper.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Mounts as the trees their parent ids make: a mount whose parent is not among them is a root.
 * Children come in the order of their ids, as findmnt shows them.
 */
record MountForest(List<Node> roots) {
    record Node(MountColumn.Row row, List<Node> children) {}

    static MountForest of(List<MountColumn.Row> rows) {
        Map<Integer, List<MountColumn.Row>> children = new HashMap<>();
        Set<Integer> ids = new HashSet<>();
        for (MountColumn.Row r : rows) ids.add(r.info().id());
        List<MountColumn.Row> roots = new ArrayList<>();
        for (MountColumn.Row r : rows) {
            int parent = r.info().parent();
            if (parent != r.info().id() && ids.contains(parent)) children.computeIfAbsent(parent, k -> new ArrayList<>()).add(r);
            else roots.add(r);
        }
        List<Node> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (MountColumn.Row r : roots) out.add(node(r, children, seen));
        return new MountForest(out);
    }

    private static Node node(MountColumn.Row r, Map<Integer, List<MountColumn.Row>> children, Set<Integer> seen) {
        List<Node> kids = new ArrayList<>();
        if (seen.add(r.info().id())) {
            List<MountColumn.Row> rs = new ArrayList<>(children.getOrDefault(r.info().id(), List.of()));
            rs.sort(Comparator.comparingInt(k -> k.info().id()));
            for (MountColumn.Row k : rs) kids.add(node(k, children, seen));
        }
        return new Node(r, kids);
    }

    /**
     * Every mount, deepest first: each before the one it sits on, siblings in reverse order of
     * their mount points (the order to unmount in).
     */
    List<MountColumn.Row> deepestFirst() {
        List<MountColumn.Row> out = new ArrayList<>();
        List<Node> rs = new ArrayList<>(roots);
        rs.sort(Comparator.comparing((Node n) -> n.row().info().mountPoint()).reversed());
        for (Node n : rs) postOrder(n, out);
        return out;
    }

    private static void postOrder(Node n, List<MountColumn.Row> out) {
        List<Node> kids = new ArrayList<>(n.children());
        kids.sort(Comparator.comparing((Node k) -> k.row().info().mountPoint()).reversed());
        for (Node k : kids) postOrder(k, out);
        out.add(n.row());
    }
}
