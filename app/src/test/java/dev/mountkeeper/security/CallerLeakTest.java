package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.CliProcess;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security 22 and 23: what a caller has that its sandboxed command must not get. Each runs the CLI
 * as its own process, started the way an attacker's host would start it.
 */
@Privileged
class CallerLeakTest {
    @TempDir Path tmp;

    /** 22: a runner started with inheritable and ambient capabilities (capsh, setpriv, pam_cap, old container engines). */
    @Test
    void inheritableAndAmbientCapabilitiesDoNotReachTheCommand() throws Exception {
        List<String> argv = new ArrayList<>(Tools.withInheritableCapabilities());
        int given = argv.get(1).split(",").length;
        argv.addAll(CliProcess.argv("run"));
        argv.addAll(CliProcess.HOST_TOOLS);
        argv.addAll(List.of("--", "sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Amb|Bnd)' /proc/self/status; grep -c . /proc/self/mountinfo;"
                + " mount -t tmpfs x /tmp 2>/dev/null && echo MOUNTED"));
        String out = run(argv);
        List<String> sets = out.lines().filter(l -> l.startsWith("Cap")).toList();
        Figures.report("security 22 (inheritable and ambient capabilities): the runner had CapInh and CapAmb "
                + given + " capabilities; seen inside: " + String.join(", ", sets).replace("\t", " "));
        assertThat(sets).containsExactly("CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000");
        assertThat(out).doesNotContain("MOUNTED");
    }

    /**
     * 23: TIOCSTI (CVE-2017-5226). A shell on a real pty runs the sandbox, whose command pushes a
     * line into its standard streams and /dev/tty; then the shell reads what is waiting on its
     * terminal. With --no-new-session (a control, where the kernel allows TIOCSTI) the line is there.
     */
    @Test
    void theCommandCannotInjectInputIntoTheCallersTerminal() throws Exception {
        Path python = Tools.require("python3", List.of("/usr/bin/python3"));
        String inject = "import fcntl, os, termios\n"
                + "ok = 0\n"
                + "fds = [0, 1, 2]\n"
                + "try: fds.append(os.open('/dev/tty', os.O_RDWR))\n"
                + "except OSError: pass\n"
                + "for fd in fds:\n"
                + "    try:\n"
                + "        for c in b'echo INJECTED\\n': fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))\n"
                + "        ok += 1\n"
                + "    except OSError: pass\n"
                + "print('TRIED', len(fds), 'ACCEPTED', ok)\n";
        String harness = "import os, pty, sys\n"
                + "pid, fd = pty.fork()\n"
                + "if pid == 0:\n"
                + "    os.execv('/bin/sh', ['sh', '-c', '\"$@\"; /usr/bin/python3 -c \"import os, select; r = select.select([0], [], [], 0)[0];"
                + " print(\\'CALLER-READ:\\' + (os.read(0, 4096).decode().strip().replace(chr(10), \\' \\') if r else \\'\\'))\"', 'sh'] + sys.argv[1:])\n"
                + "out = b''\n"
                + "while True:\n"
                + "    try: chunk = os.read(fd, 4096)\n"
                + "    except OSError: break\n"
                + "    if not chunk: break\n"
                + "    out += chunk\n"
                + "os.waitpid(pid, 0)\n"
                + "sys.stdout.write(out.decode(errors='replace'))\n";
        Path h = Files.writeString(tmp.resolve("on-a-pty.py"), harness);
        String legacy = Files.exists(Path.of("/proc/sys/dev/tty/legacy_tiocsti"))
                ? Files.readString(Path.of("/proc/sys/dev/tty/legacy_tiocsti")).trim() : "1";
        int tried = 0, read = 0;
        for (String mode : List.of("--new-session", "", "--no-new-session")) {
            List<String> argv = new ArrayList<>(List.of(python.toString(), h.toString()));
            argv.addAll(CliProcess.argv("run"));
            argv.addAll(CliProcess.HOST_TOOLS);
            if (!mode.isEmpty()) argv.add(mode);
            argv.addAll(List.of("--", "python3", "-c", inject));
            String out = run(argv);
            String caller = out.lines().filter(l -> l.startsWith("CALLER-READ:")).findFirst().orElseThrow();
            String report = out.lines().filter(l -> l.startsWith("TRIED")).findFirst().orElseThrow();
            if (mode.equals("--no-new-session")) {
                if (legacy.equals("1")) assertThat(caller).as("the control injects").contains("echo INJECTED");
                continue;
            }
            tried += Integer.parseInt(report.split(" ")[1]);
            if (caller.contains("INJECTED")) read++;
            assertThat(caller).isEqualTo("CALLER-READ:");
            assertThat(report).endsWith("ACCEPTED 0");
        }
        Figures.report("security 23 (TIOCSTI on a real pty): " + tried + " injections tried from 2 sandboxes, " + read
                + " read by the caller (legacy_tiocsti=" + legacy + "; with --no-new-session the control's line reached the caller)");
        assertThat(read).isZero();
    }

    /**
     * The command's environment is exactly the caller's plus what the options say: nothing the
     * launcher script (JAVA_HOME, SHLVL) or a rootless re-execution added, and PWD is where the
     * command starts, not the caller's directory on the host.
     */
    @Test
    void theCommandsEnvironmentIsTheCallersAndNoMore() throws Exception {
        Map<String, String> caller = Map.of("PATH", "/usr/bin:/bin", "HOME", "/tmp", "FOO", "bar baz", "PWD", tmp.toString());
        for (boolean reexecuted : List.of(false, true)) {
            List<String> argv = new ArrayList<>(CliProcess.argv("run"));
            argv.add(1, "-Dmountkeeper.launcher.added=JAVA_HOME,SHLVL");
            argv.addAll(List.of("--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--symlink", "usr/bin", "/bin", "--setenv", "ADDED", "1", "--", "env"));
            ProcessBuilder pb = new ProcessBuilder(argv).directory(Path.of("/").toFile()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(caller);
            pb.environment().putAll(Map.of("JAVA_HOME", "/opt/jdk", "SHLVL", "0")); // as the launcher hands them on
            if (reexecuted) pb.environment().put("MOUNTKEEPER_IN_USERNS", "1"); // as the rootless re-execution does
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out.lines().sorted().toList()).as(reexecuted ? "re-executed" : "as started")
                    .containsExactly("ADDED=1", "FOO=bar baz", "HOME=/tmp", "PATH=/usr/bin:/bin", "PWD=/");
        }
        Figures.report("security (environment): the command saw exactly the caller's 4 variables and the 1 set by an option,"
                + " (started directly, and as re-executed for a rootless run); JAVA_HOME, SHLVL and the re-execution's marker were not passed on");
    }

    private String run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).directory(tmp.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(out, StandardCharsets.UTF_8);
    }
}
