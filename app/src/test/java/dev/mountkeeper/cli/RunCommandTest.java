package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Privileged
class RunCommandTest {
    @TempDir Path tmp;

    static final List<String> BASE = List.of("run", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev");

    CliTest.Run run(String... more) {
        List<String> args = new ArrayList<>(BASE);
        args.addAll(List.of("--stdout", tmp.resolve("out").toString()));
        args.addAll(List.of(more));
        return CliTest.run(args.toArray(String[]::new));
    }

    String out() throws Exception {
        return Files.readString(tmp.resolve("out"));
    }

    @Test
    void exitStatusIsTheCommandsOr128PlusTheSignal() {
        assertThat(run("--", "sh", "-c", "exit 5").code()).isEqualTo(5);
        assertThat(run("sh", "-c", "kill -TERM $$").code()).isEqualTo(143);
        CliTest.Run t = run("--timeout", "0.2", "--", "sleep", "100");
        assertThat(t.code()).isEqualTo(124);
        assertThat(t.err()).contains("timed out after 200 ms");
    }

    @Test
    void missingAndNonExecutableCommandsAre127And126() {
        CliTest.Run missing = run("--", "no-such-command");
        assertThat(missing.code()).isEqualTo(127);
        assertThat(missing.err()).contains("\"no-such-command\": command not found in PATH");
        assertThat(run("--", "/usr").code()).isEqualTo(126);
    }

    @Test
    void badOptionsAndSpecsExit2() {
        assertThat(run("--no-such-option", "--", "true").code()).isEqualTo(2);
        CliTest.Run spec = run("--mount", "bogus:x:/y", "--", "true");
        assertThat(spec.code()).isEqualTo(2);
        assertThat(spec.err()).contains("Invalid mount spec \"bogus:x:/y\"");
        assertThat(run("--tmpfs", "relative/dir", "--", "true").code()).isEqualTo(2);
        CliTest.Run source = run("--bind", "/nonexistent/source", "/src", "--", "true");
        assertThat(source.code()).isEqualTo(2);
        assertThat(source.err()).contains("\"/nonexistent/source\"");
        assertThat(run("--timeout", "soon", "--", "true").code()).isEqualTo(2);
        assertThat(run().code()).isEqualTo(2); // no command
    }

    @Test
    void optionsApplyInOrderLaterMountsOverEarlierOnes() throws Exception {
        CliTest.Run r = run("--dir", "/x", "--data", "hidden", "/x/f", "--size", "65536", "--perms", "1777", "--tmpfs", "/x",
                "--data", "seen", "/y/f", "--", "sh", "-c", "ls -A /x | wc -l; stat -c %a /x; cat /y/f; df -B1 --output=size /x | tail -1 | tr -d ' '");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).isEqualTo("0\n1777\nseen65536\n");
    }

    @Test
    void environmentOptions() throws Exception {
        CliTest.Run r = run("--clearenv", "--setenv", "A", "1", "--setenv", "B", "2", "--unsetenv", "A", "--chdir", "/usr",
                "--", "sh", "-c", "echo $A-$B; pwd; env | grep -c .");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).isEqualTo("-2\n/usr\n2\n"); // B and the shell's own PWD
    }

    @Test
    void specFileAndSpecLanguage() throws Exception {
        Path specs = Files.writeString(tmp.resolve("specs"), "# build mounts\ntmpfs::/scratch:size=1m\n\nsymlink:scratch:/s\n");
        CliTest.Run r = run("--spec-file", specs.toString(), "--mount", "dir::/opt/tools", "--", "sh", "-c",
                "touch /s/ok && ls /scratch && test -d /opt/tools && echo yes");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out()).isEqualTo("ok\nyes\n");
    }
}
