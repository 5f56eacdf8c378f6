package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 15: a holder SIGKILLed never releases; its references are reclaimed, and a process
 * that reuses its pid is not mistaken for it (pid plus start time).
 */
@Privileged
class HolderReclaimTest {
    @TempDir Path dir;

    @Test
    void aKilledHolderIsReclaimedThroughItsPidfd() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        int attempts = 20, reclaimed = 0;
        long worstMs = 0;
        try (DaemonProcess d = new DaemonProcess(dir, null).start()) {
            for (int i = 0; i < attempts; i++) {
                HolderProcess h = new HolderProcess();
                d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
                assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
                long t0 = System.nanoTime();
                h.kill();
                waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the killed holder's mount to go");
                worstMs = Math.max(worstMs, (System.nanoTime() - t0) / 1_000_000);
                reclaimed++;
            }
            assertThat(d.status().getContextsList()).isEmpty();
        }
        Figures.report("holder SIGKILLed while holding: " + reclaimed + "/" + attempts + " reclaimed through pidfd,"
                + " slowest " + worstMs + " ms from kill to unmount");
    }

    @Test
    void aReusedPidIsNotTheHolder() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        try (DaemonProcess d = new DaemonProcess(dir, null).start()) {
            HolderProcess h = new HolderProcess();
            long pid = h.pid();
            d.ok("POST", "/v1/acquire", acquire("c", pid, "tmpfs::" + a));
            d.kill(); // away while its holder dies and the pid comes back
            h.kill();
            HolderProcess impostor = null;
            int tries = 0;
            for (; tries < 50 && impostor == null; tries++) {
                Files.writeString(Path.of("/proc/sys/kernel/ns_last_pid"), Long.toString(pid - 1));
                HolderProcess p = new HolderProcess();
                if (p.pid() == pid) impostor = p;
                else p.kill();
            }
            assertThat(impostor).as("a process with the holder's pid " + pid).isNotNull();
            try (HolderProcess reused = impostor) {
                d.start();
                assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
                assertThat(d.status().getContextsList()).isEmpty();
                Figures.report("pid " + pid + " reused by another process while the daemon was down (" + tries
                        + " tries to get it): the reference was reclaimed, 0 mistaken for the holder");
            }
        }
    }
}
