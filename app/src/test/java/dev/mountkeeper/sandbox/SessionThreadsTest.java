package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Sandboxes.Output;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session threads are reused: what a session changed on its thread must not reach the next one. */
@Privileged
class SessionThreadsTest {
    @TempDir Path tmp;
    final SandboxRunner runner = new SandboxRunner();

    @Test
    void idleThreadsAreBackInTheProcesssNamespacesRootAndDirectory() throws Exception {
        int before = sandboxThreads().size(); // idle ones from other tests in this JVM, reused below
        for (int i = 0; i < 20; i++) {
            Output o = Sandboxes.run(runner, Sandboxes.hostTools().hostname("box-" + i).unshareNet(true)
                    .command("sh", "-c", "hostname"), tmp);
            assertThat(o.out()).as(o.err()).isEqualTo("box-" + i + "\n");
        }
        List<Path> threads = sandboxThreads();
        Figures.report("20 sequential runs: " + before + " idle sandbox thread(s) before, " + threads.size() + " after");
        assertThat(threads).isNotEmpty().hasSizeLessThanOrEqualTo(before + 2);
        Path self = Path.of("/proc/self");
        for (Path t : threads) {
            for (String ns : List.of("mnt", "pid_for_children", "ipc", "uts", "net")) {
                assertThat(Files.readSymbolicLink(t.resolve("ns/" + ns))).as(t + " " + ns)
                        .isEqualTo(Files.readSymbolicLink(self.resolve("ns/" + ns)));
            }
            assertThat(Files.readSymbolicLink(t.resolve("cwd"))).isEqualTo(Files.readSymbolicLink(self.resolve("cwd")));
            assertThat(Files.readSymbolicLink(t.resolve("root"))).isEqualTo(Path.of("/"));
        }
    }

    @Test
    void capabilitiesFollowTheSandboxNotTheThreadItRanOn() throws Exception {
        for (int i = 0; i < 6; i++) {
            boolean keep = i % 2 == 1;
            Output o = Sandboxes.run(runner, Sandboxes.hostTools().proc("/proc").keepCapabilities(keep)
                    .command("sh", "-c", "grep CapBnd /proc/self/status"), tmp);
            String bounding = o.out().strip().replaceAll("\\s+", " ");
            if (keep) assertThat(bounding).as("run %d keeps them", i).isNotEqualTo("CapBnd: 0000000000000000");
            else assertThat(bounding).as("run %d drops them", i).isEqualTo("CapBnd: 0000000000000000");
        }
    }

    @Test
    void threadsAreBornAtTheirPoolsHomeWhoeverAsksForThem() throws Exception {
        SessionThreads pool = new SessionThreads(); // made here, at home
        String homeNs = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/mnt")).toString();
        String homeCaps = capBnd();
        CompletableFuture<List<String>> seen = new CompletableFuture<>();
        // A caller in another mount namespace, with an empty bounding set.
        Thread elsewhere = Thread.ofPlatform().start(() -> {
            try {
                NamespaceSyscalls.unshare(NamespaceSyscalls.CLONE_FS | NamespaceSyscalls.CLONE_NEWNS);
                ProcessSyscalls.prctl(ProcessSyscalls.PR_CAPBSET_DROP, 0, 0);
                pool.run(w -> {
                    try {
                        seen.complete(List.of(String.valueOf(w.home != null),
                                Files.readSymbolicLink(Path.of("/proc/thread-self/ns/mnt")).toString(), capBnd()));
                    } catch (IOException e) {
                        seen.completeExceptionally(e);
                    }
                }, false);
            } catch (Exception e) {
                seen.completeExceptionally(e);
            }
        });
        assertThat(seen.get()).containsExactly("true", homeNs, homeCaps);
        elsewhere.join();
    }

    private static String capBnd() throws IOException {
        return Files.readAllLines(Path.of("/proc/thread-self/status")).stream().filter(l -> l.startsWith("CapBnd:"))
                .findFirst().orElseThrow();
    }

    /** This JVM's tasks named after sandbox threads (comm is cut to 15 characters). */
    private static List<Path> sandboxThreads() throws IOException {
        List<Path> found = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).strip().equals("mountkeeper-san")) found.add(t);
            }
        }
        return found;
    }
}
