package dev.mountkeeper.security;

import static dev.mountkeeper.shared.Requests.mountsUnder;
import static dev.mountkeeper.shared.Requests.unchecked;
import static dev.mountkeeper.shared.Requests.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.shared.DaemonProcess;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 29: one user's sweeps cannot make another user's sweep a no-op (once keys are per
 * user and per context), and a provider plugin that leaves its process group with setsid does
 * not outlive its timeout.
 */
@Privileged
class DaemonSweepAndPluginTest {
    private static final int A = 65534, B = 65533;

    @TempDir Path dir;

    @Test
    void onceKeysAreEachUsersOwnAndPluginsEndWithTheirTimeout() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = Files.createDirectories(dir.resolve("root"));
        Path tb = Files.createDirectories(root.resolve("b"));
        chown(tb, B);
        Path tp = Files.createDirectories(root.resolve("p"));
        chown(tp, A);
        Path src = Files.createDirectories(dir.resolve("src"));
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxrwxrwx"));
        String marker = "MK_PLUGIN_MARK=" + UUID.randomUUID();
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path started = dir.resolve("started");
        // Leaves its group (setsid, and a double fork) and then hangs past the timeout.
        Path hang = Files.writeString(plugins.resolve("hang"), String.join("\n", "#!/bin/sh",
                "export " + marker,
                "setsid sleep 1000 &",
                "( setsid sh -c 'sleep 1000' & )",
                "echo $! > " + started,
                "exec sleep 1000", ""));
        Files.setPosixFilePermissions(hang, PosixFilePermissions.fromString("rwxr-xr-x"));
        String policy = "{\"rules\": [{\"users\": [\"" + A + "\", \"" + B + "\"], \"targets\": [\"" + root + "\"],"
                + " \"sources\": [\"" + src + "\"], \"types\": [\"tmpfs\", \"hang\"]}]}";
        int foreignTried = 0, skipped = 0, pushed = 0;
        long left, ran;
        Map<String, String> env = Map.of("MOUNTKEEPER_PLUGIN_PATH", plugins.toString(), "MOUNTKEEPER_PROVIDER_TIMEOUT", "1");
        try (DaemonProcess d = new DaemonProcess(dir, policy).start(env)) {
            DaemonPeer a = new DaemonPeer(d.socket, A), b = new DaemonPeer(d.socket, B);
            // A uses the key B's build will sweep with, before B does.
            assertThat(a.call("POST", "/v1/sweep", sweep("build", "build-42"), scratch)).startsWith("200 ");
            foreignTried++;
            Process holder = b.start("import time\ntime.sleep(3600)");
            Process aHolder = a.start("import time\ntime.sleep(3600)");
            try {
                String spec = "tmpfs::" + tb;
                String acquired = b.call("POST", "/v1/acquire", "{\"context\": \"build\", \"holder\": {\"pid\": " + holder.pid()
                        + "}, \"specs\": [\"" + spec + "\"]}", scratch);
                assertThat(acquired).contains("mounted " + tb);
                // A also mounts in a context of B's name: B's sweep must neither fail on it nor take it.
                assertThat(a.call("POST", "/v1/acquire", "{\"context\": \"build\", \"holder\": {\"pid\": " + aHolder.pid()
                        + "}, \"specs\": [\"tmpfs::" + tp + "\"]}", scratch)).contains("mounted " + tp);
                foreignTried++;
                String swept = b.call("POST", "/v1/sweep", sweep("build", "build-42"), scratch);
                assertThat(swept).startsWith("200 ").contains("unmounted " + tb).doesNotContain(tp.toString());
                assertThat(mountsUnder(root)).containsExactly(tp.toString());
                aHolder.destroyForcibly();
                aHolder.waitFor();
                waitUntil(() -> unchecked(root).isEmpty(), "A's mount to go with its holder");
                if (swept.contains("\"skipped\": true")) skipped++;
                assertThat(mountsUnder(root)).isEmpty();
                // B's own key holds, however many keys A burns meanwhile.
                for (int i = 0; i < 300; i++) {
                    assertThat(a.call("POST", "/v1/sweep", sweep("build", "flood-" + i), scratch)).startsWith("200 ");
                    pushed++;
                }
                assertThat(b.call("POST", "/v1/sweep", sweep("build", "build-42"), scratch)).contains("\"skipped\": true");
                d.kill(); // the keys are in the state: a restarted daemon still knows B's
                d.start(env);
                assertThat(b.call("POST", "/v1/sweep", sweep("build", "build-42"), scratch)).contains("\"skipped\": true");
                assertThat(b.call("POST", "/v1/sweep", sweep("build", "flood-0"), scratch)).doesNotContain("\"skipped\": true");
            } finally {
                holder.destroyForcibly(); // setpriv execs python: this is the holder itself
                holder.waitFor();
                aHolder.destroyForcibly();
                aHolder.waitFor();
            }

            // The plugin: the acquire fails with the timeout, and nothing it started is left.
            Process acquiring = a.send("POST", "/v1/acquire", "{\"context\": \"p\", \"specs\": [\"hang:" + src + ":" + tp + "\"]}",
                    scratch);
            waitUntil(() -> marked(marker).size() >= 4, "the plugin and the three processes it leaves running");
            ran = marked(marker).size();
            String r = DaemonPeer.answer(acquiring);
            assertThat(r).doesNotStartWith("200 ").contains("did not finish within 1000 ms and was killed");
            assertThat(started).exists();
            waitUntil(() -> marked(marker).isEmpty(), "the plugin's processes to end");
            left = marked(marker).size();
            assertThat(mountsUnder(root)).isEmpty();
        }
        assertThat(skipped).isZero();
        Figures.report("foreign once keys and contexts tried " + foreignTried + " (and " + pushed + " more keys to push one out), sweeps skipped or failed "
                + skipped + "; plugin processes left after its timeout " + left + " of " + ran + " (setsid and double fork)");
    }

    private static String sweep(String context, String once) {
        return "{\"context\": \"" + context + "\", \"once\": \"" + once + "\"}";
    }

    /** Processes whose environment carries {@code marker}: only what the plugin started. */
    private static List<Long> marked(String marker) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("environ"))).contains(marker);
                } catch (IOException gone) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void chown(Path p, int uid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", uid);
    }
}
