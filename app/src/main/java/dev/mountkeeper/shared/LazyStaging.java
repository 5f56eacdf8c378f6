package dev.mountkeeper.shared;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Staged;
import dev.mountkeeper.provider.Staging;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's staging place for providers, under its state directory, made on the first
 * provider spec. A staging tmpfs left by a daemon that was killed is detached first. One provider
 * runs at a time (in the host's namespace, mounts of two at once could not be told apart), so a
 * provider stuck beyond its timeout (a built-in one on a user's filesystem that never answers)
 * would hold up every other: a request waits for its turn no longer than twice the timeout.
 */
final class LazyStaging implements Mounter.Stager, AutoCloseable {
    private final Path dir;
    private final KernelFeatures features;
    private final java.util.concurrent.locks.ReentrantLock turn = new java.util.concurrent.locks.ReentrantLock();
    private Staging staging;

    LazyStaging(Path dir, KernelFeatures features) {
        this.dir = dir;
        this.features = features;
    }

    @Override
    public Staged stage(MountSpec.Provided spec) throws IOException {
        Duration wait = Staging.timeoutFromEnvironment().multipliedBy(2);
        try {
            if (!turn.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new MountException(MountException.Reason.SYSTEM, "Provider " + Quote.string(spec.provider())
                        + " (for " + Quote.string(spec.dest()) + ") did not get the staging place within " + wait.toMillis()
                        + " ms: another provider is still running there");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Reason.SYSTEM, "Interrupted while waiting for the staging place");
        }
        try {
            return stageInTurn(spec);
        } finally {
            turn.unlock();
        }
    }

    private Staged stageInTurn(MountSpec.Provided spec) throws IOException {
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
    public void close() {
        boolean mine = false;
        try {
            mine = turn.tryLock(1, TimeUnit.SECONDS); // a provider stuck for good does not keep the daemon from stopping
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (staging != null) staging.close();
        } finally {
            if (mine) turn.unlock();
        }
    }
}
