package dev.mountkeeper.bb;

import dev.mountkeeper.mount.MountSpec;

/** Moves a spec's destination below a directory: an input root's mounts, wherever that root is seen. */
final class Specs {
    private Specs() {}

    static MountSpec under(String prefix, MountSpec s) {
        if (prefix.isEmpty()) return s;
        return switch (s) {
            case MountSpec.Bind b -> new MountSpec.Bind(b.bindType(), b.source(), prefix + b.dest(), b.options());
            case MountSpec.Filesystem f -> new MountSpec.Filesystem(f.fsType(), f.source(), prefix + f.dest(), f.options());
            case MountSpec.Dev d -> new MountSpec.Dev(prefix + d.dest(), d.options());
            case MountSpec.Dir d -> new MountSpec.Dir(prefix + d.dest(), d.options());
            case MountSpec.Symlink l -> new MountSpec.Symlink(l.target(), prefix + l.dest());
        };
    }
}
