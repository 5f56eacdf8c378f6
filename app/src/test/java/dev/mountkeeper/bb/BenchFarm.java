package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;

/** The runner set up for benchmarks: chroot into the input root with /proc, /sys, /usr and the links. */
public final class BenchFarm implements AutoCloseable {
    private final Path dir;
    private final BuildFarm farm;
    private final AtomicLong roots = new AtomicLong();

    private BenchFarm(Path dir) throws Exception {
        this.dir = dir;
        farm = new BuildFarm(dir, "\"chrootIntoInputRoot\": true, \"createMountpoints\": true, " + BbRunnerTest.PROC_AND_SYS
                + ", \"inputRootMountSpecs\": [\"ro-bind:/usr:/usr\", \"symlink:usr/lib:/lib\","
                + " \"symlink:usr/lib64:/lib64\", \"symlink:usr/bin:/bin\"]");
    }

    public static BenchFarm start() throws Exception {
        return new BenchFarm(Files.createTempDirectory("mountkeeper-bench"));
    }

    /** A fresh, empty input root, as the worker makes one per action. */
    public Path inputRoot() throws Exception {
        return Files.createDirectory(dir.resolve("bwrap-" + roots.incrementAndGet()));
    }

    /** One action of /bin/true; its directory is removed afterwards, as the worker does. */
    public long runTrue() throws Exception {
        String a = farm.newAction();
        RunResponse r = farm.client.blocking().run(RunRequest.newBuilder().addArguments("/bin/true")
                .putEnvironmentVariables("PATH", "/usr/bin:/bin").setInputRootDirectory(a + "/root")
                .setStdoutPath(a + "/stdout").setStderrPath(a + "/stderr").build());
        if (r.getExitCode() != 0) throw new IllegalStateException("action failed: " + r);
        delete(farm.buildDirectory.resolve(a));
        return r.getExitCode();
    }

    public static void delete(Path p) throws Exception {
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    @Override
    public void close() throws Exception {
        farm.close();
        delete(dir);
    }
}
