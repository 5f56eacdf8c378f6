package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.DatagramSockets;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.shared.proto.Status;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The unit's Type=notify and SIGTERM, without systemd: the test is the service manager. It binds
 * the AF_UNIX datagram socket named by NOTIFY_SOCKET (an abstract name, then a path), reads READY=1
 * once the API socket answers, sends SIGTERM and sees STOPPING=1 and exit code 0; the next daemon
 * finds the held mount in the state it left.
 */
@Privileged
class SystemdNotifyTest {
    private static final int SIGTERM = 15;
    @TempDir Path dir;

    private static String next(Fd notify) throws Exception {
        byte[] d = DatagramSockets.receive(notify, Duration.ofSeconds(30));
        assertThat(d).as("a datagram on NOTIFY_SOCKET within 30 s").isNotNull();
        return new String(d, StandardCharsets.UTF_8);
    }

    @Test
    void readyOnceServingAndSigtermExitsZeroWithTheStateOnDisk() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        String abstractName = "@mountkeeper-test-notify-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (HolderProcess h = new HolderProcess(); Fd notify = DatagramSockets.socket()) {
            DatagramSockets.bind(notify, abstractName);
            DaemonProcess d = new DaemonProcess(dir, null);
            int exit;
            try (d) {
                d.launch(Map.of("NOTIFY_SOCKET", abstractName));
                assertThat(next(notify)).isEqualTo("READY=1");
                // Ready means served: the first connection needs no retry.
                assertThat(DaemonClient.call(d.socket, "GET", "/v1/version", null, Duration.ZERO).status()).isEqualTo(200);
                d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
                d.signal(SIGTERM);
                assertThat(next(notify)).isEqualTo("STOPPING=1");
                exit = d.awaitExit();
                assertThat(exit).as(d.logText()).isZero();
            }
            assertThat(d.logText()).contains("mountkeeper daemon: INFO: stopped;").doesNotContain("Exception");
            assertThat(mountsUnder(dir.resolve("root"))).as("SIGTERM leaves the mounts").containsExactly(a.toString());

            // A path this time; the next daemon has the holder's reference from the state on disk.
            Path socketFile = dir.resolve("notify.sock");
            try (Fd second = DatagramSockets.socket()) {
                DatagramSockets.bind(second, socketFile.toString());
                try (DaemonProcess again = new DaemonProcess(dir, null)) {
                    again.start(Map.of("NOTIFY_SOCKET", socketFile.toString()));
                    assertThat(next(second)).isEqualTo("READY=1");
                    Status s = again.status();
                    assertThat(s.getContexts(0).getTargets(0).getTarget()).isEqualTo(a.toString());
                    assertThat(s.getContexts(0).getTargets(0).getHoldersList()).extracting(x -> (long) x.getPid()).containsExactly(h.pid());
                    again.ok("POST", "/v1/release", releaseAll("c", h.pid()));
                    waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "a's unmount");
                }
            }
            Figures.report("sd_notify: READY=1 on an abstract and a path NOTIFY_SOCKET, STOPPING=1 and exit " + exit
                    + " on SIGTERM, 1 held mount found again from the state");
        }
        assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
    }

    /** The unit in the repository asks for what the daemon does: notify, reload by SIGHUP, a clean exit on SIGTERM. */
    @Test
    void theUnitUsesNotifyAndReloadsWithSighup() throws Exception {
        java.util.List<String> unit = Files.readAllLines(Path.of("integrations/systemd/mountkeeper.service"));
        assertThat(unit).contains("Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "KillMode=process")
                .noneMatch(l -> l.startsWith("SuccessExitStatus="));
    }
}
