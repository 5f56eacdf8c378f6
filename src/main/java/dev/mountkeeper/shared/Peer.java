package dev.mountkeeper.shared;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Who sent a request, from the socket's peer credentials (SO_PEERCRED). Its supplementary groups
 * are read from /proc only when a policy rule asks for a group.
 */
public final class Peer {
    private final long pid;
    private final int uid, gid;
    private final Supplier<List<Integer>> groups;

    /** A peer whose primary group is the first of {@code groups} (its uid when there are none). */
    public Peer(long pid, int uid, List<Integer> groups) {
        this(pid, uid, groups.isEmpty() ? uid : groups.getFirst(), () -> groups);
    }

    private Peer(long pid, int uid, int gid, Supplier<List<Integer>> groups) {
        this.pid = pid;
        this.uid = uid;
        this.gid = gid;
        this.groups = groups;
    }

    public static Peer of(long pid, int uid, int gid) {
        return new Peer(pid, uid, gid, new java.util.function.Supplier<>() {
            private List<Integer> known;

            @Override
            public synchronized List<Integer> get() {
                if (known == null) {
                    List<Integer> all = new ArrayList<>(Processes.identify(pid).map(Processes.Identity::groups).orElse(List.of()));
                    if (!all.contains(gid)) all.addFirst(gid);
                    known = List.copyOf(all);
                }
                return known;
            }
        });
    }

    public long pid() { return pid; }

    public int uid() { return uid; }

    /** The primary group, from the socket's peer credentials. */
    public int gid() { return gid; }

    public List<Integer> groups() { return groups.get(); }

    public boolean isRoot() { return uid == 0; }

    @Override
    public String toString() { return "uid " + uid + " (pid " + pid + ")"; }
}
