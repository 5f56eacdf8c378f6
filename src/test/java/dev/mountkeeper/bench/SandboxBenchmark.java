package dev.mountkeeper.bench;

import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One sandboxed run of /bin/true per operation, from a warm JVM: mountkeeper's Sandbox API next to
 * (a) a plain posix_spawn of /bin/true and (b) bubblewrap doing the same sandbox (read-only /usr,
 * the lib and bin links, /proc, /dev, pid, IPC and UTS namespaces). bench/sandbox prints medians and ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SandboxBenchmark {
    static final List<String> ENV = List.of("PATH=/usr/bin:/bin");

    private SandboxRunner runner;
    private Sandbox sandbox;
    private Spawn plain;
    private Spawn bwrap;

    @Setup
    public void setUp() {
        runner = new SandboxRunner();
        sandbox = Sandbox.builder().roBind("/usr", "/usr").symlink("usr/lib", "/lib").symlink("usr/lib64", "/lib64")
                .symlink("usr/bin", "/bin").proc("/proc").dev("/dev").clearEnv().setEnv("PATH", "/usr/bin:/bin")
                .command("/bin/true").build();
        plain = new Spawn("/bin/true", List.of("true"), ENV, null, Map.of());
        bwrap = new Spawn("/usr/bin/bwrap", List.of("bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
                "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "/bin/true"), ENV, null, Map.of());
    }

    @Benchmark
    public int mountkeeper() throws Exception {
        RunResult r = runner.run(sandbox);
        if (r.exitCode() != 0) throw new IllegalStateException("mountkeeper run failed: " + r);
        return r.exitCode();
    }

    @Benchmark
    public int plainSpawn() throws Exception {
        return check(ProcessSyscalls.wait4(plain.start()), "posix_spawn");
    }

    @Benchmark
    public int bubblewrap() throws Exception {
        return check(ProcessSyscalls.wait4(bwrap.start()), "bwrap");
    }

    private static int check(ProcessSyscalls.Exit e, String what) {
        if (e.exitCode() != 0) throw new IllegalStateException(what + " failed: " + e);
        return e.exitCode();
    }
}
