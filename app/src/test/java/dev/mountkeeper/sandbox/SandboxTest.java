package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Sandboxes.Output;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Privileged
class SandboxTest {
    @TempDir Path tmp;
    final SandboxRunner runner = new SandboxRunner();

    Output sh(Sandbox.Builder b, String script) throws Exception {
        return Sandboxes.run(runner, b.command("sh", "-c", script), tmp);
    }

    @Test
    void exitCodesAndSignalsComeBackAsAShellWouldSeeThem() throws Exception {
        assertThat(sh(Sandboxes.hostTools(), "exit 0").result().shellStatus()).isZero();
        assertThat(sh(Sandboxes.hostTools(), "exit 42").result().exitCode()).isEqualTo(42);
        RunResult killed = sh(Sandboxes.hostTools(), "kill -TERM $$").result();
        assertThat(killed.exitCode()).isEqualTo(-1);
        assertThat(killed.signal()).isEqualTo(15);
        assertThat(killed.shellStatus()).isEqualTo(143);
        assertThat(killed.timedOut()).isFalse();
        assertThat(killed.cancelled()).isFalse();
    }

    @Test
    void theEnvironmentIsExactlyTheOneGiven() throws Exception {
        Output o = sh(Sandboxes.hostTools().setEnv("GREETING", "hello world").unsetEnv("HOME"), "env | sort");
        assertThat(o.out().lines().toList()).containsExactly("GREETING=hello world", "PATH=/usr/bin:/bin", "PWD=/");
    }

    @Test
    void workingDirectoryHostnameAndFiles() throws Exception {
        Output o = sh(Sandboxes.hostTools().dir("/work/src").chdir("/work/src").hostname("sandbox-7")
                .file("/work/src/data.txt", "payload\n"), "pwd; hostname; cat data.txt; ls -ld /work/src | cut -c1-10");
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("/work/src\nsandbox-7\npayload\ndrwxr-xr-x\n");
    }

    @Test
    void procShowsOnlyTheSandboxsOwnProcesses() throws Exception {
        assertOwnProc(KernelFeatures.current());
    }

    @Test
    void procFallbackMadeFromInsideThePidNamespace() throws Exception {
        KernelFeatures forced = KernelFeatures.detect().without("pidns");
        assertThat(forced.procPidns()).isFalse();
        assertOwnProc(forced);
    }

    @Test
    void classicMountApiFallbackBuildsTheSameSandbox() throws Exception {
        assertOwnProc(KernelFeatures.detect().without("mount-api,listmount"));
    }

    private void assertOwnProc(KernelFeatures features) throws Exception {
        Output o = Sandboxes.run(new SandboxRunner(features), Sandboxes.withProc().command("sh", "-c",
                "echo $$; ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '; grep -c . /proc/mounts"), tmp);
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        List<String> lines = o.out().lines().toList();
        // PID 1 is the sandbox's init; the command comes next (third where mount(8) made /proc).
        assertThat(Integer.parseInt(lines.get(0))).isEqualTo(features.procPidns() ? 2 : 3);
        // init, sh, and the ls/grep/sort/tr of the pipeline: nothing of the host.
        List<Integer> pids = Arrays.stream(lines.get(1).trim().split(" ")).map(Integer::parseInt).toList();
        assertThat(pids).contains(1, Integer.parseInt(lines.get(0))).allMatch(p -> p < 20);
    }

    @Test
    void sysIsReadOnlyAndDevIsMinimal() throws Exception {
        Output o = sh(Sandboxes.hostTools().sys("/sys"),
                "ls /dev | tr '\\n' ' '; echo; touch /sys/x 2>&1 | grep -c 'Read-only'; echo hi > /dev/null && echo ok;"
                        + " cd /dev && stat -c '%n %A %t:%T' null zero full random urandom tty shm;"
                        + " head -c 3 /dev/zero | wc -c; head -c 3 /dev/urandom | wc -c; echo x 2>&1 > /dev/full | grep -c 'error'");
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        // As root the nodes are made in /dev's own tmpfs; they must be the host's devices, usable by anyone.
        assertThat(o.out()).isEqualTo("core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero \n1\nok\n"
                + "null crw-rw-rw- 1:3\nzero crw-rw-rw- 1:5\nfull crw-rw-rw- 1:7\nrandom crw-rw-rw- 1:8\n"
                + "urandom crw-rw-rw- 1:9\ntty crw-rw-rw- 5:0\nshm drwxrwxrwt 0:0\n3\n3\n1\n");
    }

    @Test
    void aGivenRootIsPivotedIntoAndKeepsItsFiles() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("marker"), "mine\n");
        Output o = sh(Sandbox.builder().root(root.toString()).roBind("/usr", "/usr").symlink("usr/lib", "/lib")
                .symlink("usr/lib64", "/lib64").symlink("usr/bin", "/bin").clearEnv().setEnv("PATH", "/usr/bin"),
                "cat /marker; ls / | tr '\\n' ' '");
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        assertThat(o.out()).isEqualTo("mine\nbin lib lib64 marker usr ");
        assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
    }

    @Test
    void commandsThatCannotRunAre127Or126() throws Exception {
        assertThatThrownBy(() -> Sandboxes.run(runner, Sandboxes.hostTools().command("no-such-tool"), tmp))
                .isInstanceOfSatisfying(SandboxException.class, e -> {
                    assertThat(e.status()).isEqualTo(127);
                    assertThat(e.getMessage()).contains("\"no-such-tool\": command not found in PATH \"/usr/bin:/bin\"");
                });
        assertThatThrownBy(() -> Sandboxes.run(runner, Sandboxes.hostTools().command("/usr"), tmp))
                .isInstanceOfSatisfying(SandboxException.class, e -> assertThat(e.status()).isEqualTo(126))
                .hasMessageContaining("is a directory");
        assertThatThrownBy(() -> Sandboxes.run(runner, Sandboxes.hostTools().file("/notes.txt", "x").command("/notes.txt"), tmp))
                .isInstanceOfSatisfying(SandboxException.class, e -> assertThat(e.status()).isEqualTo(126));
    }

    @Test
    void argv0IsFoundInTheCommandsOwnPathInsideTheRoot() throws Exception {
        // /usr/bin/env is not needed: "true" is found through PATH inside the sandbox.
        Output o = Sandboxes.run(runner, Sandboxes.hostTools().setEnv("PATH", "/nowhere:/usr/bin").command("true"), tmp);
        assertThat(o.result().exitCode()).isZero();
    }

    @Test
    void aMissingBindSourceIsBadInputAndNothingIsLeft() throws Exception {
        assertThatThrownBy(() -> sh(Sandboxes.hostTools().bind("/nonexistent/src", "/src"), "true"))
                .isInstanceOfSatisfying(MountException.class, e -> assertThat(e.reason()).isEqualTo(MountException.Reason.INVALID_INPUT))
                .hasMessageContaining("\"/nonexistent/src\"");
        Output o = sh(Sandboxes.hostTools().bindTry("/nonexistent/src", "/src"), "test -e /src || echo absent");
        assertThat(o.out()).isEqualTo("absent\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"timeout", "cancel"})
    void timeoutAndCancelKillTheWholeTree(String how) throws Exception {
        String marker = "mk-tree-" + how + "-" + System.nanoTime();
        String child = "sh -c 'sleep 1000; :' " + marker;
        Sandbox.Builder b = Sandboxes.withProc().command("sh", "-c",
                child + " & " + child + " & setsid " + child + " & wait", marker);
        if (how.equals("timeout")) b.timeout(Duration.ofMillis(300));
        SandboxRunner.Execution ex = runner.start(b.build());
        RunResult r;
        try {
            if (how.equals("cancel")) {
                assertThat(Sandboxes.awaitProcessesWith(marker, 4)).hasSize(4);
            }
        } finally {
            if (how.equals("cancel")) ex.cancel(); // also when the check failed: no sandbox outlives its test
            r = ex.waitFor();
        }
        assertThat(r.timedOut()).isEqualTo(how.equals("timeout"));
        assertThat(r.cancelled()).isEqualTo(how.equals("cancel"));
        assertThat(r.signal()).isEqualTo(9);
        assertThat(Sandboxes.processesWith(marker)).isEmpty();
    }

    @Test
    void mountsAreInvisibleOnTheHostWhileTheCommandRuns() throws Exception {
        var before = Kernel.mounts();
        Path fifo = tmp.resolve("fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        SandboxRunner.Execution ex = runner.start(Sandboxes.withProc().bind(tmp.toString(), "/io")
                .command("sh", "-c", "echo started > /io/fifo; sleep 1000").build());
        Files.readString(fifo); // the command is running, its mounts are up
        assertThat(Kernel.mounts()).containsExactlyInAnyOrderElementsOf(before);
        ex.cancel();
        ex.waitFor();
    }
}
