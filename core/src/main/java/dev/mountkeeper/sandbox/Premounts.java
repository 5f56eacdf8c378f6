package dev.mountkeeper.sandbox;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Staged;
import dev.mountkeeper.provider.Staging;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A sandbox's provider mounts, all made at the staging place before its root exists (as a
 * checkpoint/restore tool premounts), then handed out in order as the steps that name them come.
 */
final class Premounts implements Mounter.Stager, AutoCloseable {
    private final Staging staging;
    private final Deque<Staged> staged = new ArrayDeque<>();

    private Premounts(Staging staging) {
        this.staging = staging;
    }

    static Premounts stage(Sandbox sandbox, KernelFeatures features, String directory) throws IOException {
        var specs = sandbox.ops().stream().filter(op -> op instanceof Op.Mount(MountSpec.Provided p))
                .map(op -> (MountSpec.Provided) ((Op.Mount) op).spec()).toList();
        if (specs.isEmpty()) return new Premounts(null);
        Premounts p = new Premounts(Staging.create(directory, features, Staging.timeoutFromEnvironment(), true));
        try {
            for (MountSpec.Provided spec : specs) p.staged.add(p.staging.stage(spec));
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public Staged stage(MountSpec.Provided spec) throws IOException {
        Staged s = staged.poll();
        if (s == null) throw new MountException(MountException.Reason.SYSTEM, "No premounted mount for " + spec.dest());
        return s;
    }

    @Override
    public void close() {
        staged.forEach(Staged::close);
        if (staging != null) staging.close();
    }
}
