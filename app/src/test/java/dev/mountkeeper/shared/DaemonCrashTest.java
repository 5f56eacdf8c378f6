package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 14 for the daemon: SIGKILL in the middle of mounting, of running, and of
 * unmounting. After a restart no mount is left that no live holder needs, and none that a live
 * holder needs is taken away.
 */
@Privileged
class DaemonCrashTest {
    @TempDir Path dir;

    private Path a, b, kept;

    private void targets() throws Exception {
        a = Files.createDirectories(dir.resolve("root/a"));
        b = Files.createDirectories(dir.resolve("root/b"));
        kept = Files.createDirectories(dir.resolve("root/kept"));
    }

    @Test
    void killedWhileMountingUndoesTheCutShortAcquireOnly() throws Exception {
        targets();
        try (HolderProcess live = new HolderProcess(); HolderProcess h = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, null).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", live.pid(), "tmpfs::" + kept));
            d.kill();
            d.start(Map.of("MOUNTKEEPER_FAULT_KILL_AT", "mounting"));
            d.callDying("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a, "tmpfs::" + b));
            d.awaitDeath();
            assertThat(mountsUnder(dir.resolve("root"))).contains(a.toString()).doesNotContain(b.toString());
            d.start();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(kept.toString());
            assertThat(d.status().getContexts(0).getTargets(0).getHolders(0).getPid()).isEqualTo(live.pid());
            Figures.report("daemon SIGKILLed while mounting: 1 half-made mount undone on restart, 0 of 1 live holders' mounts taken");
            live.kill();
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the live holder's mount to go after it died");
        }
    }

    @Test
    void killedAfterRecordingAnAcquireKeepsItForItsLiveHolder() throws Exception {
        targets();
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, null)
                .start(Map.of("MOUNTKEEPER_FAULT_KILL_AT", "acquired"))) {
            d.callDying("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            d.awaitDeath();
            d.start();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            // The client retries the request it got no answer to: the same holder, so no second reference.
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            assertThat(d.status().getContexts(0).getTargets(0).getCount()).isEqualTo(1);
            d.ok("POST", "/v1/release", release("c", h.pid(), "tmpfs::" + a));
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
        }
    }

    @Test
    void killedWhileUnmountingFinishesTheUnmountOnRestart() throws Exception {
        targets();
        try (HolderProcess live = new HolderProcess(); HolderProcess h = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, null).start(Map.of("MOUNTKEEPER_FAULT_KILL_AT", "unmounting"))) {
            d.ok("POST", "/v1/acquire", acquire("c", live.pid(), "tmpfs::" + kept));
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            d.callDying("POST", "/v1/release", release("c", h.pid(), "tmpfs::" + a));
            d.awaitDeath();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString(), kept.toString());
            d.start();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(kept.toString());
            Figures.report("daemon SIGKILLed while unmounting: the unmount finished on restart, 0 of 1 live holders' mounts taken");
            d.ok("POST", "/v1/release", releaseAll("c", live.pid()));
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
        }
    }

    @Test
    void killedWhileRunningReclaimsOnlyHoldersThatDiedMeanwhile() throws Exception {
        targets();
        try (HolderProcess live = new HolderProcess(); HolderProcess dies = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, null).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", live.pid(), "tmpfs::" + kept, "tmpfs::" + b));
            d.ok("POST", "/v1/acquire", acquire("c", dies.pid(), "tmpfs::" + a, "tmpfs::" + b));
            d.kill();
            dies.kill();
            d.start();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(b.toString(), kept.toString());
            assertThat(d.logText()).contains("Holder pid " + dies.pid());
            Figures.report("daemon SIGKILLed while running, a holder died meanwhile: its only mount went on restart,"
                    + " its shared one stayed for the live holder (0 taken)");
            live.kill();
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "everything to go");
        }
    }

    @Test
    void killedWhileWritingTheStateAfterMountingUndoesTheUnansweredAcquire() throws Exception {
        targets();
        try (HolderProcess h = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, null).start(Map.of("MOUNTKEEPER_FAULT_KILL_AT", "torn-after-mount"))) {
            d.callDying("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            d.awaitDeath();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            d.start();
            assertThat(d.logText()).contains("a write cut short by a crash");
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
            // The client retries the request it got no answer to: mounted once, not stacked on a leftover.
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            d.ok("POST", "/v1/release", releaseAll("c", h.pid()));
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
            Figures.report("daemon SIGKILLed halfway through writing the state after a mount: the torn slot was"
                    + " noticed, the unanswered acquire undone, 0 mounts left behind after the client's retry");
        }
    }
}
