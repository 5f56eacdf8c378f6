package dev.mountkeeper.bb;

import dev.mountkeeper.mount.MountSpec;

/** Moves a spec's destination below a directory: an input root's mounts, wherever that root is seen. */
final class Specs {
    private Specs() {}

    static MountSpec under(String prefix, MountSpec s) {
        if (prefix.isEmpty()) return s;
        return s.withDest(prefix + s.dest());
    }
}
