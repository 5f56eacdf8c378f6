package dev.mountkeeper.shared;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Staged;
import dev.mountkeeper.provider.Staging;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The daemon's staging place for providers, under its state directory, made on the first
 * provider spec. A staging tmpfs left by a daemon that was killed is detached first.
 */
final class LazyStaging implements Mounter.Stager, AutoCloseable {
    private final Path dir;
    private final KernelFeatures features;
    private Staging staging;

    LazyStaging(Path dir, KernelFeatures features) {
        this.dir = dir;
        this.features = features;
    }

    @Override
    public synchronized Staged stage(MountSpec.Provided spec) throws IOException {
        if (staging == null) {
            try {
                while (true) MountSyscalls.umount2(dir.toString(), MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
            } catch (ErrnoException nothingThere) {
                // EINVAL (not a mount point) or ENOENT: clean
            }
            staging = Staging.create(dir.toString(), features, Staging.timeoutFromEnvironment(), false);
        }
        return staging.stage(spec);
    }

    @Override
    public synchronized void close() {
        if (staging != null) staging.close();
    }
}
