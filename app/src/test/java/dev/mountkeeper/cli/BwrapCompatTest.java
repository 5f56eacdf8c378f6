package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.CliProcess;
import dev.mountkeeper.testing.Privileged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What bubblewrap's users rely on: its base command, its JSON status, its capability options, its dialect. */
@Privileged
class BwrapCompatTest {
    @TempDir Path tmp;

    CliTest.Run run(String... more) {
        List<String> args = new ArrayList<>(List.of("run", "--stdout", tmp.resolve("out").toString()));
        args.addAll(List.of(more));
        return CliTest.run(args.toArray(String[]::new));
    }

    String out() throws Exception {
        return Files.readString(tmp.resolve("out"));
    }

    @Test
    void aBindOfTheRootOnTheRootIsTheSandboxsWholeTree() throws Exception {
        Files.writeString(tmp.resolve("marker"), "from the host\n");
        CliTest.Run r = run("--ro-bind", "/", "/", "--", "sh", "-c", "cat " + tmp.resolve("marker")
                + "; touch " + tmp.resolve("new") + " 2>/dev/null || echo read-only");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).isEqualTo("from the host\nread-only\n");
        assertThat(tmp.resolve("new")).doesNotExist();
    }

    @Test
    void aFreshProcMayCoverTheHostsWholeProcButNothingInsideIt() throws Exception {
        CliTest.Run r = run("--bind", "/", "/", "--proc", "/proc", "--", "cat", "/proc/1/cmdline");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).startsWith("mountkeeper-init"); // the sandbox's PID 1, not the host's
        CliTest.Run inside = run("--bind", "/", "/", "--tmpfs", "/proc/sys", "--", "true");
        assertThat(inside.code()).isEqualTo(2);
        assertThat(inside.err()).contains("lies inside procfs");
    }

    /** Rootless, the host's /proc comes locked with the tree: the fresh one covers it whole, nothing inside it. */
    @Test
    void rootlessAFreshProcCoversTheHostsLockedProc() throws Exception {
        Process p = new ProcessBuilder(shortArgv("run", "--rootless", "--bind", "/", "/", "--proc", "/proc", "--",
                "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; ls -d /proc/[0-9]* | wc -l")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).startsWith("mountkeeper-init ");
        assertThat(Integer.parseInt(out.lines().toList().getLast().strip())).isBetween(2, 5);
        Process inside = new ProcessBuilder(shortArgv("run", "--rootless", "--bind", "/", "/", "--tmpfs", "/proc/sys",
                "--", "true")).redirectErrorStream(true).start();
        String err = new String(inside.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(inside.waitFor()).isEqualTo(2);
        assertThat(err).contains("lies inside procfs");
    }

    /**
     * The CLI's command line with the class path in an @argfile: the rootless re-execution reads its
     * own command line back from /proc, which the kernel may cut short for a long class path.
     */
    private List<String> shortArgv(String... args) throws Exception {
        List<String> argv = CliProcess.argv(args);
        int cp = argv.indexOf("-cp");
        Path file = Files.writeString(tmp.resolve("cp.args"), "-cp \"" + argv.get(cp + 1) + "\"\n");
        argv.set(cp, "@" + file);
        argv.remove(cp + 1);
        return argv;
    }

    @Test
    void uidAndGidNameTheCommandsIdsInItsUserNamespace() throws Exception {
        Process p = new ProcessBuilder(shortArgv("run", "--unshare-user", "--uid", "1234", "--gid", "4321", "--bind", "/", "/",
                "--", "sh", "-c", "id -u; id -g")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo("1234\n4321\n");
        CliTest.Run r = run("--uid", "1234", "--bind", "/", "/", "true");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--uid needs a user namespace (--unshare-user)");
    }

    @Test
    void devHasCore() throws Exception {
        CliTest.Run r = run("--bind", "/", "/", "--dev", "/dev", "--", "readlink", "/dev/core");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).isEqualTo("/proc/kcore\n");
    }

    @Test
    void capDropTakesOneCapabilityAndAllTakesEvery() throws Exception {
        assertThat(run("--bind", "/", "/", "--cap-add", "ALL", "--cap-drop", "CAP_KILL", "--",
                "grep", "^CapBnd", "/proc/self/status").code()).isZero();
        long bounding = Long.parseLong(out().split("\\s+")[1], 16);
        assertThat(bounding & (1L << 5)).isZero(); // CAP_KILL
        assertThat(bounding & (1L << 21)).isNotZero(); // CAP_SYS_ADMIN stays
        assertThat(run("--bind", "/", "/", "--keep-caps", "--cap-drop", "ALL", "--", "grep", "^CapEff", "/proc/self/status")
                .code()).isZero();
        assertThat(out()).isEqualTo("CapEff:\t0000000000000000\n");
        assertThat(run("--cap-drop", "CAP_NOSUCH", "true").err()).contains("CAP_NOSUCH is not a capability name");
    }

    @Test
    void infoAndJsonStatusFdsCarryThePidTheNamespacesAndTheExitCode() throws Exception {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" 3>" + tmp.resolve("info") + " 4>"
                + tmp.resolve("status"), "sh"));
        argv.addAll(CliProcess.argv("run", "--bind", "/", "/", "--unshare-net", "--info-fd", "3", "--json-status-fd", "4",
                "--stdout", tmp.resolve("out").toString(), "--", "sh", "-c", "stat -L -c %i /proc/self/ns/net; exit 42"));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(log).isEqualTo(42);
        String info = Files.readString(tmp.resolve("info"));
        String status = Files.readString(tmp.resolve("status"));
        assertThat(info).containsPattern("\"child-pid\": [0-9]+").contains("\"net-namespace\": " + out().strip());
        assertThat(status).startsWith(info).endsWith("{ \"exit-code\": 42 }\n");
    }

    @Test
    void underTheBwrapNameItSpeaksBubblewrapsMessagesAndStatus() throws Exception {
        List<String> argv = CliProcess.argv("run", "--bind", "/nonexistent-source", "/x", "true");
        argv.add(1, "-Dmountkeeper.as=bwrap");
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(log).startsWith("bwrap: Can't find source path /nonexistent-source: No such file or directory");
    }
}
