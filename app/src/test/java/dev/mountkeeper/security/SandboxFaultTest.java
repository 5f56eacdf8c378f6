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

    /** The mount namespaces that some thread of {@code pids} is in: a sandbox's disappears with its last process, and its mounts with it. */
    static Set<String> mountNamespaces(Set<Long> pids) throws IOException {
        Set<String> ns = new HashSet<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                if (!pids.contains(Long.parseLong(p.getFileName().toString()))) continue;
                try (var tasks = Files.list(p.resolve("task"))) {
                    for (Path t : tasks.toList()) ns.add(Files.readSymbolicLink(t.resolve("ns/mnt")).toString());
                } catch (IOException | java.io.UncheckedIOException gone) {
                    // exited meanwhile
                }
            }
        }
        return ns;
    }

    /** A process as it was seen: its pid and its start time, so that a reused pid is not taken for it. */
    record Member(long pid, java.util.Optional<java.time.Instant> start) {
        /** Still running as the same process (not a zombie, which holds no namespace). */
        boolean running() {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")
                        && ProcessHandle.of(pid).flatMap(h -> h.info().startInstant()).equals(start);
            } catch (IOException gone) {
                return false;
            }
        }
    }

    /** The processes whose mount namespace is one of {@code namespaces}. */
    static List<Member> processesIn(Set<String> namespaces) throws IOException {
        List<Member> in = new ArrayList<>();
        if (namespaces.isEmpty()) return in;
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (namespaces.contains(Files.readSymbolicLink(p.resolve("ns/mnt")).toString())) {
                        long pid = Long.parseLong(p.getFileName().toString());
                        in.add(new Member(pid, ProcessHandle.of(pid).flatMap(h -> h.info().startInstant())));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return in;
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
        int leftProcesses = 0, leftNamespaces = 0;
        for (Case c : cases) {
            // The sandbox names its own mount namespace first: only that one is looked for afterwards.
            Sandbox.Builder b = Sandboxes.withProc().command("sh", "-c", "readlink /proc/self/ns/mnt; " + c.script(), m);
            if (c.timeout() != null) b.timeout(c.timeout());
            Sandboxes.Output o = Sandboxes.run(runner, b, tmp);
            java.time.Instant ended = java.time.Instant.now();
            RunResult r = o.result();
            assertThat(r.shellStatus()).as(c.name()).isEqualTo(c.status());
            String namespace = o.out().lines().findFirst().orElseThrow();
            assertThat(namespace).startsWith("mnt:[");
            leftProcesses += Sandboxes.processesWith(m).size();
            // Its id may already be another namespace's (ids are reused): only processes older than the run's end are its.
            leftNamespaces += processesIn(Set.of(namespace)).stream()
                    .anyMatch(p -> p.start().map(t -> t.isBefore(ended)).orElse(false)) ? 1 : 0;
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
        // The CLI's threads start in this thread's mount namespace (this JVM's leader may be elsewhere).
        String ownNamespace = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/mnt")).toString();
        // Namespace ids are reused as soon as they are free: what is counted is the processes that were
        // in a sandbox's namespace when it was seen, by pid and start time, never the ids alone.
        Set<String> seen = new HashSet<>();
        List<Member> members = new ArrayList<>();
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
            Set<Long> pids = new HashSet<>(Sandboxes.processesWith(m));
            pids.add(p.pid());
            Set<String> sandboxes = mountNamespaces(pids); // its session threads' and its command's
            sandboxes.remove(ownNamespace);
            seen.addAll(sandboxes);
            members.addAll(processesIn(sandboxes));
            p.destroyForcibly(); // SIGKILL
            p.waitFor(10, TimeUnit.SECONDS);
            if (Files.exists(started)) whileRunning++;
            for (int t = 0; t < 200 && !Sandboxes.processesWith(m).isEmpty(); t++) Thread.sleep(10);
            leftProcesses += Sandboxes.processesWith(m).size();
        }
        List<Member> now = members.stream().filter(Member::running).toList();
        for (int t = 0; t < 500 && !now.isEmpty(); t++, Thread.sleep(10)) { // the kernel kills a namespace's last ones meanwhile
            now = now.stream().filter(Member::running).toList();
        }
        Figures.report("security 14 (SIGKILL of mountkeeper): " + kills + " kills (" + whileRunning
                + " while the command ran, the rest during start or mounting), " + leftProcesses + " processes left, "
                + now.size() + " of the " + members.size() + " processes seen in " + seen.size() + " sandbox mount namespaces left, host mount table changed: " + !Kernel.mounts().equals(hostMounts));
        assertThat(leftProcesses).isZero();
        assertThat(now).isEmpty();
        assertThat(Kernel.mounts()).containsExactlyInAnyOrderElementsOf(hostMounts);
        assertThat(whileRunning).as("some kills must hit a running command").isPositive();
        assertThat(whileRunning).as("some kills must hit start or mounting").isLessThan(kills);
    }

    /**
     * --die-with-parent: SIGKILL of the shell that started mountkeeper ends mountkeeper and the
     * sandbox. Without it (the control) both live on until killed by hand.
     */
    @Test
    void dieWithParentEndsTheSandboxWhenTheParentIsKilled() throws Exception {
        int ended = 0, tries = 0;
        for (boolean die : List.of(true, false)) {
            String m = "mk-parent-" + die + "-" + System.nanoTime();
            List<String> run = new ArrayList<>(dev.mountkeeper.testing.CliProcess.argv("run"));
            if (die) run.add("--die-with-parent");
            run.addAll(List.of("--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--symlink", "usr/bin", "/bin", "--", "sh", "-c", "sleep 1000; :", m));
            // "; :" keeps the shell from exec'ing: it stays the parent.
            List<String> argv = new ArrayList<>(List.of("sh", "-c", "\"$@\"; :", "sh"));
            argv.addAll(run);
            Process shell = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            // The shell, the JVM and the command: the arguments of each carry the marker.
            List<Long> alive = Sandboxes.awaitProcessesWith(m, 3);
            assertThat(alive).as("shell, mountkeeper and the command").hasSize(3);
            shell.destroyForcibly(); // SIGKILL of the parent
            shell.waitFor(10, TimeUnit.SECONDS);
            List<Long> left = Sandboxes.awaitProcessesWith(m, die ? 0 : 2);
            if (die) {
                tries++;
                if (left.isEmpty()) ended++;
                assertThat(left).as("left after the parent's SIGKILL").isEmpty();
            } else {
                assertThat(left).as("the control lives on").hasSize(2);
                for (long pid : left) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                assertThat(Sandboxes.awaitProcessesWith(m, 0)).isEmpty();
            }
        }
        Figures.report("sandbox --die-with-parent: parent SIGKILLed " + tries + " time, sandbox and mountkeeper ended "
                + ended + " time (without the option both lived on, as asked)");
    }
}
