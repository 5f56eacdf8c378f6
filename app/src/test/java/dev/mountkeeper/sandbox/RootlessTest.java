package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Unprivileged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `mountkeeper run` started by an unprivileged uid (nobody, 65534): it re-executes itself in a user
 * namespace and gets the same sandbox for binds, tmpfs, proc and sysfs. Privileged only because
 * switching to that uid takes root.
 */
@Privileged
class RootlessTest {
    @TempDir Path tmp;

    @Test
    void anUnprivilegedUserGetsTheSameSandbox() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("in.txt"), "bound\n");
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));
        Process p = new ProcessBuilder(Unprivileged.cli(tmp,
                "run", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--sys", "/sys", "--dev", "/dev", "--tmpfs", "/tmp",
                "--bind", data.toString(), "/data", "--", "sh", "-c",
                "id -u; cat /data/in.txt; echo out > /data/out.txt; ls -d /proc/[0-9]* | wc -l; test -d /sys/class && echo sys;"
                        + " touch /sys/x 2>/dev/null || echo sys-ro; echo x > /dev/null && head -c 2 /dev/zero | wc -c;"
                        + " stat -c %A /dev/shm; grep ^CapEff /proc/self/status /proc/1/status | tr -d '[:space:]'; echo; exit 3"))
                .directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        Figures.report("rootless run as uid 65534: exit " + code + ", output " + out.strip().replace('\n', ' '));
        assertThat(code).as(out).isEqualTo(3);
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).isEqualTo("65534"); // the caller's own uid, as under bubblewrap
        assertThat(lines.get(1)).isEqualTo("bound");
        assertThat(Integer.parseInt(lines.get(2).trim())).isBetween(2, 5);
        assertThat(lines.subList(3, 7)).containsExactly("sys", "sys-ro", "2", "drwxrwxrwt"); // /dev by binds here
        // Neither the command nor PID 1 holds a capability in the sandbox's user namespace.
        assertThat(lines.get(7)).isEqualTo("/proc/self/status:CapEff:0000000000000000/proc/1/status:CapEff:0000000000000000");
        assertThat(Files.readString(data.resolve("out.txt"))).isEqualTo("out\n");
        assertThat(Files.getOwner(data.resolve("out.txt")).getName()).isEqualTo("nobody");
    }
}
