package dev.mountkeeper.shared;

import java.util.ArrayList;
import java.util.List;

/**
 * Who sent a request, from the socket's peer credentials as the kernel recorded them when it
 * connected (never from /proc by its pid, which another process may have by the time it is read).
 * {@code groups} holds the primary group first, then the supplementary ones.
 */
public record Peer(long pid, int uid, int gid, List<Integer> groups) {
    public Peer {
        groups = List.copyOf(groups);
    }

    /** A peer whose primary group is the first of {@code groups} (its uid when there are none). */
    public Peer(long pid, int uid, List<Integer> groups) {
        this(pid, uid, groups.isEmpty() ? uid : groups.getFirst(), groups);
    }

    /** A peer from the socket's credentials: uid and gid (SO_PEERCRED), supplementary groups (SO_PEERGROUPS). */
    public static Peer of(long pid, int uid, int gid, List<Integer> supplementary) {
        List<Integer> all = new ArrayList<>(supplementary);
        all.remove(Integer.valueOf(gid));
        all.addFirst(gid);
        return new Peer(pid, uid, gid, all);
    }

    public boolean isRoot() { return uid == 0; }

    @Override
    public String toString() { return "uid " + uid + " (pid " + pid + ")"; }
}
