package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.CliProcess;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security 24: another local user (nobody, through setpriv) squats every name in /tmp a sandbox
 * could be built on: the names older versions used, ours once it has seen it, and ours again after
 * a cleaner of /tmp took it. Every sandbox still starts.
 */
@Privileged
class WorkspaceSquatTest {
    @TempDir Path tmp;
    final List<Path> squatted = new ArrayList<>();

    @Test
    void anotherUserCannotStopSandboxesBySquattingNamesInTmp() throws Exception {
        Path setpriv = Tools.require("setpriv (util-linux)", List.of("/usr/bin/setpriv", "/bin/setpriv"));
        String tmpDir = System.getProperty("java.io.tmpdir");
        int tried = 0, stopped = 0;
        // The predictable names, as a directory of theirs and as symlinks to places of theirs.
        for (String name : List.of(".mountkeeper-root-0", ".mountkeeper-staging-0")) {
            tried++;
            squatted.add(Path.of(tmpDir, name));
            asNobody(setpriv, "mkdir -m 777 " + tmpDir + "/" + name);
        }
        for (String name : List.of(".mountkeeper-root-" + uid(), ".mountkeeper-0")) {
            if (Files.exists(Path.of(tmpDir, name))) continue;
            tried++;
            squatted.add(Path.of(tmpDir, name));
            asNobody(setpriv, "ln -s /tmp " + tmpDir + "/" + name);
        }
        stopped += cliRunFails() ? 1 : 0;
        SandboxRunner runner = new SandboxRunner();
        stopped += Sandboxes.run(runner, Sandboxes.hostTools().command("true"), tmp).result().exitCode() == 0 ? 0 : 1;

        // Ours, seen in the listing: they cannot get in, nor take it away.
        Workspace ours = Workspace.get();
        Path dir = Path.of(ours.root()).getParent();
        tried++;
        String in = asNobody(setpriv, "mkdir " + dir + "/x 2>&1; mv " + dir + " " + tmpDir + "/taken 2>&1; rm -rf " + dir + " 2>&1; true");
        assertThat(in).contains("Permission denied");
        stopped += Sandboxes.run(runner, Sandboxes.hostTools().command("true"), tmp).result().exitCode() == 0 ? 0 : 1;

        // A cleaner of /tmp takes ours away (it is empty on the host), and they take its name.
        tried++;
        Files.delete(Path.of(ours.root()));
        Files.delete(Path.of(ours.staging()));
        Files.delete(dir);
        squatted.add(dir);
        asNobody(setpriv, "mkdir -m 777 " + dir + " " + dir + "/root " + dir + "/staging");
        stopped += Sandboxes.run(runner, Sandboxes.hostTools().command("true"), tmp).result().exitCode() == 0 ? 0 : 1;
        assertThat(Workspace.get().root()).isNotEqualTo(ours.root());

        Figures.report("security 24 (squatted names in /tmp): " + tried + " squats tried, " + stopped + " sandboxes stopped");
        assertThat(stopped).isZero();
        for (Path p : squatted) new ProcessBuilder("rm", "-rf", p.toString()).start().waitFor();
    }

    private boolean cliRunFails() throws Exception {
        List<String> argv = new ArrayList<>(CliProcess.argv("run"));
        argv.addAll(CliProcess.HOST_TOOLS);
        argv.addAll(List.of("--", "true"));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        if (p.exitValue() != 0) System.out.println("the CLI failed: " + out);
        return p.exitValue() != 0;
    }

    private static String asNobody(Path setpriv, String script) throws Exception {
        Process p = new ProcessBuilder(setpriv.toString(), "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    private static int uid() {
        return dev.mountkeeper.linux.ProcessSyscalls.geteuid();
    }
}
