package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Sandboxes.Output;
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security items 10, 11 and 12 of security-tests.md, for `mountkeeper run` and the Sandbox API. */
@Privileged
class SandboxIsolationTest {
    @TempDir Path tmp;
    final SandboxRunner runner = new SandboxRunner();

    /** 10: nothing of the sandbox shows in the host's table, and a host unmount does not reach into it. */
    @Test
    void propagationStaysInsideAndHostUnmountsStayOutside() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("shared/sub"));
        MountSyscalls.mount("tmpfs", shared.toString(), "tmpfs", 0, "size=64k");
        Files.writeString(shared.resolve("kept"), "still here\n");
        var before = Kernel.mounts();
        Path fifo = tmp.resolve("fifo"), go = tmp.resolve("go");
        new ProcessBuilder("mkfifo", fifo.toString(), go.toString()).start().waitFor();
        SandboxRunner.Execution ex = runner.start(Sandboxes.withProc().bind(tmp.toString(), "/io")
                .command("sh", "-c", "echo up > /io/fifo; read x < /io/go; cat /io/shared/sub/kept > /io/result").build());
        Files.readString(fifo);
        int visible = Kernel.mounts().size() - before.size();
        List<String> extra = Kernel.mounts().stream().filter(m -> !before.contains(m)).map(m -> m.mountPoint()).toList();
        MountSyscalls.umount2(shared.toString(), 0); // the host takes its submount away mid-run
        Files.writeString(go, "go\n");
        assertThat(ex.waitFor().exitCode()).isZero();
        String seen = Files.readString(tmp.resolve("result"));
        Figures.report("security 10 (propagation): " + visible + " sandbox mounts visible in the host's table during the run, "
                + "host unmount reached into the sandbox: " + !seen.equals("still here\n"));
        assertThat(extra).isEmpty();
        assertThat(seen).isEqualTo("still here\n");
    }

    /** 11: no descriptor of ours reaches the command, and the host's root is not reachable from inside. */
    @Test
    void noDescriptorLeaksAndTheOldRootIsGone() throws Exception {
        Path secret = Files.writeString(tmp.resolve("host-secret-" + System.nanoTime()), "secret");
        List<FileInputStream> open = new ArrayList<>();
        for (int i = 0; i < 20; i++) open.add(new FileInputStream(secret.toFile())); // fds the JVM holds meanwhile
        try {
            Output o = Sandboxes.run(runner, Sandboxes.withProc().command("sh", "-c",
                    "ls /proc/self/fd | tr '\\n' ' '; echo; for p in /proc/[0-9]*; do readlink $p/root $p/cwd; done | sort -u | tr '\\n' ' ';"
                            + " echo; find / -xdev -name '" + secret.getFileName() + "' 2>/dev/null | wc -l;"
                            + " ls /proc/*/root" + secret + " /proc/*/cwd" + secret + " 2>/dev/null | wc -l"), tmp);
            List<String> lines = o.out().lines().toList();
            List<String> fds = Arrays.asList(lines.get(0).trim().split(" "));
            int leaked = fds.size() - 4; // 0, 1, 2 and the directory ls is reading
            int paths = Integer.parseInt(lines.get(2).trim()) + Integer.parseInt(lines.get(3).trim());
            Figures.report("security 11 (descriptors and old root): " + open.size() + " extra JVM descriptors open, "
                    + leaked + " leaked into the command; roots and cwds seen inside: " + lines.get(1).trim()
                    + "; paths reaching the host file: " + paths);
            assertThat(fds).containsExactly("0", "1", "2", "3");
            assertThat(lines.get(1).trim()).isEqualTo("/");
            assertThat(paths).isZero();
        } finally {
            for (FileInputStream f : open) f.close();
        }
    }

    /** 12: with its pid namespace, the command sees only its own processes. */
    @Test
    void theCommandSeesOnlyItsOwnProcesses() throws Exception {
        Output o = Sandboxes.run(runner, Sandboxes.withProc().command("sh", "-c",
                "sleep 1000 & ls -d /proc/[0-9]* | wc -l; kill %1"), tmp);
        int seen = Integer.parseInt(o.out().trim());
        long hostProcesses;
        try (var s = Files.list(Path.of("/proc"))) {
            hostProcesses = s.filter(p -> p.getFileName().toString().matches("\\d+")).count();
        }
        Figures.report("security 12 (process isolation): the command saw " + seen + " processes; the host has "
                + hostProcesses);
        assertThat(seen).isBetween(3, 5); // init, sh, sleep, ls (and the pipe's wc)
    }
}
