package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Socket activation as the systemd units in the repository use it: the daemon serves the socket it is passed. */
@Privileged
class SystemdActivationTest {
    @TempDir Path dir;

    @Test
    void servesTheSocketSystemdPasses() throws Exception {
        Path activate = Tools.require("systemd-socket-activate", List.of("/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate"));
        Path a = Files.createDirectories(dir.resolve("root/a"));
        DaemonProcess d = new DaemonProcess(dir, null);
        List<String> argv = new ArrayList<>(List.of(activate.toString(), "--listen=" + d.socket));
        argv.addAll(d.argv().stream().takeWhile(x -> !x.equals("--socket")).toList());
        argv.addAll(List.of("--state", d.state.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(d.log.toFile()).start();
        try (HolderProcess h = new HolderProcess()) {
            for (int i = 0; i < 200 && !Files.exists(d.socket); i++) Thread.sleep(10);
            // The first connection starts the daemon, which then answers on the passed socket.
            DaemonClient.Reply r = DaemonClient.call(d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a),
                    Duration.ofSeconds(30));
            assertThat(r.status()).as(r.body() + Files.readString(d.log)).isEqualTo(200);
            assertThat(Files.readString(d.log)).contains("serving API v1 on the socket systemd passed");
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            h.kill();
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the holder's mount to go");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }
}
