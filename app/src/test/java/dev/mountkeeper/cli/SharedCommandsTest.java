package dev.mountkeeper.cli;

import static dev.mountkeeper.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.shared.Api;
import dev.mountkeeper.shared.DaemonServer;
import dev.mountkeeper.shared.Faults;
import dev.mountkeeper.shared.MountManager;
import dev.mountkeeper.shared.Policy;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** acquire, release, status and sweep against a daemon served in this JVM. */
@Privileged
class SharedCommandsTest {
    @TempDir Path dir;

    @Test
    void theClientCommands() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a")), b = Files.createDirectories(dir.resolve("root/b"));
        String socket = dir.resolve("d.sock").toString();
        Process holder = new ProcessBuilder("sleep", "600").start();
        try (MountManager m = MountManager.start(KernelFeatures.current(), Policy.rootOnly(), dir.resolve("state"), Faults.NONE);
             DaemonServer s = DaemonServer.listen(new Api(m), Path.of(socket))) {
            String h = Long.toString(holder.pid());
            CliTest.Run acq = run("acquire", "--socket", socket, "--context", "c", "--holder", h, "proc::" + a, "tmpfs::" + b);
            assertThat(acq.code()).as(acq.err()).isZero();
            assertThat(acq.out()).isEqualTo("mounted " + a + "\nmounted " + b + "\n");
            // Without --holder the reference belongs to whoever ran the command: here, this JVM's parent.
            assertThat(run("acquire", "--socket", socket, "--context", "c", "proc::" + a).code()).isZero();
            CliTest.Run st = run("status", "--socket", socket);
            assertThat(st.out()).contains("context c").contains(a + "  mounted, 2 holders " + h + " "
                    + ProcessHandle.current().parent().orElseThrow().pid()).contains("proc on " + a + " type proc (rw,nosuid,nodev,noexec)");
            assertThat(run("status", "--socket", socket, "--json", "--context", "c").out()).contains("\"count\": 2")
                    .contains("\"pid\": " + h + ",").contains("\"boot_id\": ").doesNotContain("\"pid\": \"");
            assertThat(run("status", "--socket", socket, "--json", "--context", "none").out()).contains("\"boot_id\": ")
                    .contains("\"contexts\": []");
            assertThat(run("release", "--socket", socket, "--context", "c", "proc::" + a).out()).isEqualTo("released " + a + "\n");
            // Released twice by default holder: what a shell that exec'd its last command sees, with the way out.
            CliTest.Run again = run("release", "--socket", socket, "--context", "c", "proc::" + a);
            assertThat(again.code()).isZero();
            assertThat(again.out()).isEqualTo("not held: " + a + "\n");
            assertThat(again.err()).isEqualTo("mountkeeper release: hint: the holder was this command's parent, pid "
                    + ProcessHandle.current().parent().orElseThrow().pid() + "; a shell that runs it as its last command"
                    + " (bash -c '...; mountkeeper release ...') may have exec'd it, so that is not the shell that acquired:"
                    + " give --holder PID\n");

            CliTest.Run bad = run("acquire", "--socket", socket, "--context", "c", "--holder", h, "proc:" + a);
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).isEqualTo("mountkeeper acquire: Invalid mount spec \"proc:" + a
                    + "\": expected TYPE:SOURCE:DEST[:OPTIONS], found 2 fields\n");
            assertThat(run("release", "--socket", socket, "--context", "c", "--all", "proc::" + a).code()).isEqualTo(2);

            CliTest.Run report = run("sweep", "--socket", socket, "--context", "c", "--report-only");
            assertThat(report.out()).contains("would unmount " + a + " (1 holders)").contains("would unmount " + b);
            assertThat(Kernel.mountsBelow(dir.toString())).hasSize(2);
            CliTest.Run swept = run("sweep", "--socket", socket, "--under", dir.toString());
            assertThat(swept.code()).as(swept.err()).isZero();
            assertThat(swept.out()).contains("unmounted " + a).contains("unmounted " + b);
            assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
        } finally {
            holder.destroyForcibly().waitFor();
        }
        CliTest.Run away = run("status", "--socket", socket, "--wait", "0.2");
        assertThat(away.code()).isEqualTo(1);
        assertThat(away.err()).startsWith("mountkeeper status: Cannot reach the daemon at \"" + socket + "\"");
    }

    @Test
    void anUnreachableDaemonIsOneLineAtOnce() throws Exception {
        String missing = dir.resolve("missing.sock").toString();
        CliTest.Run none = run("status", "--socket", missing);
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).isEqualTo("mountkeeper status: Cannot reach the daemon at \"" + missing + "\": no such socket"
                + " (ENOENT); is the daemon running? (systemctl status mountkeeper.socket mountkeeper.service; --socket or"
                + " MOUNTKEEPER_SOCKET names another socket, --wait waits for it)\n");
        // A socket file nobody listens on any more: a daemon that stopped.
        Path stale = dir.resolve("stale.sock");
        try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(java.net.UnixDomainSocketAddress.of(stale));
        }
        CliTest.Run refused = run("release", "--socket", stale.toString(), "--context", "c", "--all");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).isEqualTo("mountkeeper release: Cannot reach the daemon at \"" + stale + "\": nothing"
                + " listens on it (ECONNREFUSED); the daemon stopped or is restarting (systemctl status mountkeeper.socket"
                + " mountkeeper.service; --wait waits for it)\n");
    }
}
