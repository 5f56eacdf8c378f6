package dev.mountkeeper.bench;

import static dev.mountkeeper.linux.NamespaceSyscalls.*;

import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * One sandboxed run of /bin/true per operation, from a warm JVM: mountkeeper's Sandbox API next to
 * (a) a plain posix_spawn of /bin/true and (b) bubblewrap doing the same sandbox (read-only /usr,
 * the lib and bin links, /proc, /dev, pid, IPC and UTS namespaces), and (c) the kernel's floor for
 * any sandbox with those namespaces. bench/sandbox prints medians and ratios.
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

    private static final int[] FLOOR_NS = {CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS};
    private static final String[] FLOOR_NAMES = {"mnt", "pid", "ipc", "uts"};
    private final Fd[] hostNs = new Fd[FLOOR_NS.length];
    private ExecutorService floor;

    @Setup
    public void setUp() throws Exception {
        for (int i = 0; i < FLOOR_NS.length; i++) {
            hostNs[i] = FileSyscalls.openat(FileSyscalls.AT_FDCWD, "/proc/self/ns/" + FLOOR_NAMES[i], FileSyscalls.O_RDONLY, 0);
        }
        floor = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon(true).unstarted(r));
        floor.submit(() -> { NamespaceSyscalls.unshare(CLONE_FS); return null; }).get();
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

    /**
     * The kernel's floor for what the sandbox must have, with nothing of mountkeeper's: one thread,
     * made once, unshares a mount, pid, IPC and UTS namespace, spawns /bin/true as PID 1 of the new
     * pid namespace (no mounts, no /proc, no pivot, no helper PID 1), waits, and steps back.
     */
    @Benchmark
    public int namespaceFloor() throws Exception {
        return inFreshNamespaces(() -> check(ProcessSyscalls.wait4(plain.start()), "namespaced posix_spawn"));
    }

    /**
     * The floor for what the issue asks of a sandbox: as {@link #namespaceFloor()}, but with a
     * placeholder PID 1 first (a /proc of the namespace's own needs a first process before the
     * command starts, and it holds the lifeline that kills the tree if we die), killed and reaped
     * after the command. Still no mounts at all.
     */
    @Benchmark
    public int namespaceFloorWithInit() throws Exception {
        return inFreshNamespaces(() -> {
            try (ProcessSyscalls.Pipe lifeline = ProcessSyscalls.pipe()) {
                int init = new Spawn("/bin/cat", List.of("cat"), List.of(), "/", Map.of(0, lifeline.read())).start();
                try {
                    return check(ProcessSyscalls.wait4(plain.start()), "posix_spawn after a PID 1");
                } finally {
                    ProcessSyscalls.kill(init, ProcessSyscalls.SIGKILL);
                    ProcessSyscalls.wait4(init);
                }
            }
        });
    }

    /** Runs {@code body} on the floor's thread in a new mount, pid, IPC and UTS namespace, then steps back. */
    private int inFreshNamespaces(Callable<Integer> body) throws Exception {
        return floor.submit(() -> {
            NamespaceSyscalls.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS);
            try {
                return body.call();
            } finally {
                for (int i = 0; i < FLOOR_NS.length; i++) NamespaceSyscalls.setns(hostNs[i], FLOOR_NS[i]);
            }
        }).get();
    }

    @Benchmark
    public int bubblewrap() throws Exception {
        return check(ProcessSyscalls.wait4(bwrap.start()), "bwrap");
    }

    @TearDown
    public void tearDown() {
        floor.shutdownNow();
        for (Fd fd : hostNs) fd.close();
    }

    private static int check(ProcessSyscalls.Exit e, String what) {
        if (e.exitCode() != 0) throw new IllegalStateException(what + " failed: " + e);
        return e.exitCode();
    }
}
