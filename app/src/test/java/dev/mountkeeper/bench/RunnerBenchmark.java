package dev.mountkeeper.bench;

import dev.mountkeeper.bb.BenchFarm;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Spawn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One Buildbarn action of /bin/true per operation, as bb_worker sends it (gRPC over the runner's
 * UNIX socket, chrooted into a fresh input root with /proc and /sys mounted, read-only /usr and the
 * lib and bin links), next to (a) a plain posix_spawn of /bin/true and (b) bubblewrap making the
 * same root from the same kind of input root. bench/runner runs it at 1 and 8 threads and prints
 * actions per second, latencies and ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class RunnerBenchmark {
    static final List<String> ENV = List.of("PATH=/usr/bin:/bin");

    private BenchFarm farm;
    private Spawn plain;
    private Path bwrapRoot;

    @Setup
    public void setUp() throws Exception {
        farm = BenchFarm.start();
        plain = new Spawn("/bin/true", List.of("true"), ENV, null, Map.of());
        bwrapRoot = farm.inputRoot();
    }

    @TearDown
    public void tearDown() throws Exception {
        farm.close();
    }

    @Benchmark
    public long runner() throws Exception {
        return farm.runTrue();
    }

    @Benchmark
    public int plainSpawn() throws Exception {
        return check(ProcessSyscalls.wait4(plain.start()), "posix_spawn");
    }

    @Benchmark
    public int bubblewrap() throws Exception {
        // The same per-action work as the runner: a fresh input root, then the sandbox in it.
        Path root = farm.inputRoot();
        Spawn bwrap = new Spawn("/usr/bin/bwrap", List.of("bwrap", "--bind", root.toString(), "/", "--ro-bind", "/usr",
                "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
                "--proc", "/proc", "--ro-bind", "/sys", "/sys", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--die-with-parent", "/bin/true"), ENV, null, Map.of());
        int r = check(ProcessSyscalls.wait4(bwrap.start()), "bwrap");
        BenchFarm.delete(root); // with the mountpoints bwrap made in it, as the worker removes an action
        return r;
    }

    private static int check(ProcessSyscalls.Exit e, String what) {
        if (e.exitCode() != 0) throw new IllegalStateException(what + " failed: " + e);
        return e.exitCode();
    }
}
