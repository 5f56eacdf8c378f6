package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** 10,000 runs at concurrency 2 in one JVM, every kind of ending mixed: nothing leaks, every result is right. */
@Privileged
class SoakTest {
    static final int RUNS = 10_000;

    record Kind(String script, Duration timeout, int status, boolean timedOut) {}

    @Test
    void tenThousandRunsLeaveNothing() throws Exception {
        String m = "mk-soak-" + System.nanoTime();
        String daemon = "sh -c 'sleep 1000; :' " + m;
        List<Kind> kinds = List.of(new Kind("exit 0", null, 0, false), new Kind("exit 1", null, 1, false),
                new Kind("kill -TERM $$", null, 143, false), new Kind("kill -KILL $$", null, 137, false),
                new Kind(daemon, Duration.ofMillis(20), 137, true),
                new Kind(daemon + " & " + daemon + " & exit 7", null, 7, false));
        var hostMounts = Kernel.mounts();
        SandboxRunner runner = new SandboxRunner();
        AtomicInteger wrong = new AtomicInteger();
        ConcurrentLinkedQueue<String> examples = new ConcurrentLinkedQueue<>();
        long started = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                Kind k = kinds.get(i % kinds.size());
                all.add(pool.submit(() -> {
                    Sandbox.Builder b = Sandboxes.withProc().command("sh", "-c", k.script(), m);
                    if (k.timeout() != null) b.timeout(k.timeout());
                    RunResult r = runner.run(b.build());
                    if (r.shellStatus() != k.status() || r.timedOut() != k.timedOut()) {
                        wrong.incrementAndGet();
                        if (examples.size() < 5) examples.add(k.script() + " -> " + r);
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        for (int t = 0; t < 100 && !Sandboxes.processesWith(m).isEmpty(); t++) Thread.sleep(10);
        int leftProcesses = Sandboxes.processesWith(m).size() + Sandboxes.processesWith("mountkeeper-init").size();
        int leakedMounts = Kernel.mounts().size() - hostMounts.size();
        Figures.report(String.format("soak: %d runs at concurrency 2 in %.1f s (%.2f ms per run), %d wrong results, "
                + "%d leaked mounts, %d leftover processes", RUNS, seconds, seconds * 1000 / RUNS, wrong.get(), leakedMounts,
                leftProcesses));
        assertThat(examples).isEmpty();
        assertThat(wrong.get()).isZero();
        assertThat(Kernel.mounts()).containsExactlyInAnyOrderElementsOf(hostMounts);
        assertThat(leftProcesses).isZero();
    }
}
