package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security items 13 and 14 of security-tests.md for the sandbox: every way a run can end, and SIGKILL. */
@Privileged
class SandboxFaultTest {
    @TempDir Path tmp;

    /** The mount namespaces some process is in: a sandbox's disappears with its last process, and its mounts with it. */
    static Set<String> mountNamespaces() throws IOException {
        Set<String> ns = new HashSet<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    ns.add(Files.readSymbolicLink(p.resolve("ns/mnt")).toString());
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return ns;
    }

    /** 13: exit 0, exit 1, a signal, a timeout, daemons left behind, a file held open inside a mount. */
    @Test
    void everyEndingLeavesNoMountAndNoProcess() throws Exception {
        SandboxRunner runner = new SandboxRunner();
        String m = "mk13-" + System.nanoTime();
        String daemon = "sh -c 'sleep 1000; :' " + m;
        record Case(String name, String script, Duration timeout, int status) {}
        List<Case> cases = List.of(new Case("exit 0", "exit 0", null, 0), new Case("exit 1", "exit 1", null, 1),
                new Case("signal", "kill -KILL $$", null, 137),
                new Case("timeout", daemon, Duration.ofMillis(200), 137),
                new Case("daemons left behind", "setsid " + daemon + " & " + daemon + " & exit 0", null, 0),
                new Case("file held open in a mount", "echo x > /tmp/held; " + daemon + " < /tmp/held & exec 3</tmp/held; exit 3",
                        null, 3));
        var hostMounts = Kernel.mounts();
        Set<String> namespaces = mountNamespaces();
        int leftProcesses = 0, leftNamespaces = 0;
        for (Case c : cases) {
            Sandbox.Builder b = Sandboxes.withProc().command("sh", "-c", c.script(), m);
            if (c.timeout() != null) b.timeout(c.timeout());
            RunResult r = Sandboxes.run(runner, b, tmp).result();
            assertThat(r.shellStatus()).as(c.name()).isEqualTo(c.status());
            leftProcesses += Sandboxes.processesWith(m).size();
            Set<String> now = mountNamespaces();
            now.removeAll(namespaces);
            leftNamespaces += now.size();
            assertThat(Kernel.mounts()).as(c.name()).containsExactlyInAnyOrderElementsOf(hostMounts);
        }
        Figures.report("security 13 (every ending): " + cases.size() + " endings, " + leftProcesses
                + " processes left, " + leftNamespaces + " sandbox mount namespaces (with their mounts) left");
        assertThat(leftProcesses).isZero();
        assertThat(leftNamespaces).isZero();
    }

    /** 14: SIGKILL the whole mountkeeper JVM at random points of a run, 100 times. */
    @Test
    void sigkillOfMountkeeperLeavesNothing() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String cp = System.getProperty("java.class.path");
        var hostMounts = Kernel.mounts();
        Set<String> namespaces = mountNamespaces();
        Random random = new Random(14);
        int kills = 100, whileRunning = 0, leftProcesses = 0;
        for (int i = 0; i < kills; i++) {
            String m = "mk14-" + i + "-" + System.nanoTime();
            Path started = tmp.resolve("started-" + i);
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-cp", cp, "dev.mountkeeper.cli.Main", "run", "--ro-bind", "/usr", "/usr",
                    "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", tmp.toString(), "/io",
                    "--", "sh", "-c", "sleep 1000 & touch /io/" + started.getFileName() + "; wait", m)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // Early kills land in JVM start or in mounting; later ones while the command runs.
            Thread.sleep(random.nextInt(i % 2 == 0 ? 400 : 900));
            p.destroyForcibly(); // SIGKILL
            p.waitFor(10, TimeUnit.SECONDS);
            if (Files.exists(started)) whileRunning++;
            for (int t = 0; t < 200 && !Sandboxes.processesWith(m).isEmpty(); t++) Thread.sleep(10);
            leftProcesses += Sandboxes.processesWith(m).size();
        }
        Set<String> now = mountNamespaces();
        now.removeAll(namespaces);
        Figures.report("security 14 (SIGKILL of mountkeeper): " + kills + " kills (" + whileRunning
                + " while the command ran, the rest during start or mounting), " + leftProcesses + " processes left, "
                + now.size() + " sandbox mount namespaces left, host mount table changed: " + !Kernel.mounts().equals(hostMounts));
        assertThat(leftProcesses).isZero();
        assertThat(now).isEmpty();
        assertThat(Kernel.mounts()).containsExactlyInAnyOrderElementsOf(hostMounts);
        assertThat(whileRunning).as("some kills must hit a running command").isPositive();
        assertThat(whileRunning).as("some kills must hit start or mounting").isLessThan(kills);
    }
}
