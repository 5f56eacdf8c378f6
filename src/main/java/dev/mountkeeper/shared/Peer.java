package dev.mountkeeper.shared;

import java.util.List;

/** Who sent a request, from the socket's peer credentials (SO_PEERCRED), plus its supplementary groups. */
public record Peer(long pid, int uid, List<Integer> groups) {
    public static Peer of(long pid, int uid, int gid) {
        List<Integer> groups = Processes.identify(pid).map(Processes.Identity::groups).orElse(List.of(gid));
        return new Peer(pid, uid, groups.contains(gid) ? groups : concat(gid, groups));
    }

    private static List<Integer> concat(int gid, List<Integer> groups) {
        var all = new java.util.ArrayList<Integer>(groups);
        all.addFirst(gid);
        return List.copyOf(all);
    }

    public boolean isRoot() { return uid == 0; }

    @Override
    public String toString() { return "uid " + uid + " (pid " + pid + ")"; }
}
