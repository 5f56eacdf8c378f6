package dev.mountkeeper.bench;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Mount + unmount through mountkeeper (mountat: resolve in root, build detached, move onto the fd,
 * verify; unmountat through the parent fd with the id check) next to the plain way: mount(2) and
 * umount2(2) by path, with the remount that a read-only bind needs. Run by bench/run, as root, in
 * a private mount namespace; bench/run prints the ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MountBenchmark {
    @Param({"proc", "sysfs", "tmpfs", "bind", "ro-bind"})
    public String kind;

    private Path dir;
    private Root root;
    private Mounter mounter;
    private String spec;
    private String target;

    @Setup
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("mk-bench");
        Files.createDirectories(dir.resolve("src"));
        Files.createDirectories(dir.resolve("t"));
        root = Root.open(dir.toString());
        mounter = Mounter.create();
        spec = switch (kind) {
            case "bind", "ro-bind" -> kind + ":" + dir + "/src:/t";
            default -> kind + "::/t";
        };
        target = dir + "/t";
    }

    @TearDown
    public void tearDown() {
        root.close();
    }

    @Benchmark
    public void mountkeeper() throws Exception {
        Mounted m = mounter.mount(root, MountSpecs.parse(spec));
        mounter.unmounter().unmount(root, m);
    }

    @Benchmark
    public void plainMount2ByPath() throws Exception {
        switch (kind) {
            case "bind" -> MountSyscalls.mount(dir + "/src", target, null, MountSyscalls.MS_BIND, null);
            case "ro-bind" -> {
                MountSyscalls.mount(dir + "/src", target, null, MountSyscalls.MS_BIND, null);
                MountSyscalls.mount(null, target, null,
                        MountSyscalls.MS_REMOUNT | MountSyscalls.MS_BIND | MountSyscalls.MS_RDONLY, null);
            }
            default -> MountSyscalls.mount(kind, target, kind, 0, null);
        }
        MountSyscalls.umount2(target, 0);
    }
}
