package dev.mountkeeper.security;

import static dev.mountkeeper.linux.FileSyscalls.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.UnmountPolicy;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 1: an attacker thread swaps the destination directory with a symlink to a host
 * directory (renameat2 RENAME_EXCHANGE) as fast as it can while we mount onto it. An escape is a
 * mount that lands on the host directory. A naive check-then-mount-by-path control runs the same
 * race first, to show the harness does see escapes.
 */
@Privileged
class SymlinkRaceTest {
    static final int ATTEMPTS = Integer.getInteger("mountkeeper.race.attempts", 100_000);

    @TempDir Path tmp;

    record Result(int attempts, int escapes, int inside, int refused) {}

    /** Mounts the attempts left in the root (the naive control can; mountat must not). */
    int leftover;

    interface Attempt {
        /** Mounts onto "/d" in the root; returns true if it mounted, false if refused. Cleans up its own mount. */
        boolean run() throws Exception;
    }

    private Result race(Path root, Path host, int attempts, Attempt attempt) throws Exception {
        Files.createDirectories(root.resolve("d"));
        Files.createSymbolicLink(root.resolve("l"), host);
        long hostMount = statx(AT_FDCWD, host.toString(), 0, STATX_MNT_ID).mountId();
        AtomicBoolean stop = new AtomicBoolean();
        Thread attacker = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                try {
                    renameat2(AT_FDCWD, root + "/d", AT_FDCWD, root + "/l", RENAME_EXCHANGE);
                } catch (ErrnoException e) {
                    // EBUSY while a mount sits on it: keep trying
                }
            }
        });
        int escapes = 0, inside = 0, refused = 0;
        try {
            for (int i = 0; i < attempts; i++) {
                boolean mounted = attempt.run();
                if (statx(AT_FDCWD, host.toString(), 0, STATX_MNT_ID).mountId() != hostMount) {
                    escapes++;
                    MountSyscalls.umount2(host.toString(), MountSyscalls.MNT_DETACH);
                } else if (mounted) {
                    inside++;
                } else {
                    refused++;
                }
            }
        } finally {
            stop.set(true);
            attacker.join();
        }
        Result r = new Result(attempts, escapes, inside, refused);
        leftover = Kernel.mountsBelow(root.toString()).size();
        for (var e : Kernel.mountsBelow(root.toString())) MountSyscalls.umount2(e.mountPoint(), MountSyscalls.MNT_DETACH);
        return r;
    }

    @Test
    void naiveCheckThenMountByPathEscapes() throws Exception {
        // Escapes are rare per attempt here (the JVM is slower than the attacker); run until one shows.
        int attempts = 0, escapes = 0;
        for (int round = 0; escapes == 0 && attempts < 200_000; round++) {
            Path rr = Files.createDirectories(tmp.resolve("naive-root-" + round));
            Path hh = Files.createDirectories(tmp.resolve("naive-host-" + round));
            Result part = naiveRace(rr, hh, rr + "/d");
            attempts += part.attempts();
            escapes += part.escapes();
        }
        Figures.report("security 1 (control, naive check-then-mount by path): " + attempts + " attempts, "
                + escapes + " escapes");
        assertThat(escapes).as("the harness must be able to see an escape").isPositive();
    }

    private Result naiveRace(Path root, Path host, String dest) throws Exception {
        return race(root, host, 10_000, () -> {
            if (!Files.isDirectory(Path.of(dest), java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false;
            try {
                MountSyscalls.mount("tmpfs", dest, "tmpfs", 0, null);
            } catch (ErrnoException e) {
                return false;
            }
            try {
                MountSyscalls.umount2(dest, MountSyscalls.MNT_DETACH | MountSyscalls.UMOUNT_NOFOLLOW);
            } catch (ErrnoException e) {
                // it landed on the host dir: counted and cleaned by the harness
            }
            return true;
        });
    }

    @Test
    void mountatNeverEscapes() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path host = Files.createDirectories(tmp.resolve("host"));
        Mounter m = new Mounter(KernelFeatures.current(), false, UnmountPolicy.DEFAULT);
        try (Root r = Root.open(root.toString())) {
            var spec = MountSpecs.parse("tmpfs::/d:size=64k");
            Result res = race(root, host, ATTEMPTS, () -> {
                Mounted mounted;
                try {
                    mounted = m.mount(r, spec);
                } catch (MountException e) {
                    return false;
                }
                m.unmounter().unmount(r, mounted);
                return true;
            });
            Figures.report("security 1 (symlink-exchange race on the destination, mountat): " + res.attempts()
                    + " attempts, " + res.escapes() + " escapes, " + res.inside() + " mounted inside the root, "
                    + res.refused() + " refused");
            assertThat(res.escapes()).isZero();
            assertThat(leftover).as("mounts left in the root").isZero();
            assertThat(res.inside()).as("the race must not just refuse everything").isPositive();
        }
        assertThat(Kernel.mountsBelow(tmp.toString())).isEmpty();
    }
}
