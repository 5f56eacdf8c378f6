package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Sandboxes.Output;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Security 21: the command of a root sandbox is uid 0 without capabilities, and the kernel's files
 * under /proc/sys and the like check the uid. Every such file the host has is tried for writing
 * from inside (opened for writing, nothing written), and every masked file for reading.
 */
@Privileged
class KernelFilesTest {
    @TempDir Path tmp;

    /** Where a uid-0 command could change the kernel: whatever the host lets its owner write there. */
    static final List<String> READ_ONLY = List.of("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
            "/sys/kernel", "/sys/power", "/sys/module", "/sys/block", "/sys/class", "/sys/fs");
    static final List<String> MASKED = List.of("/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/proc/latency_stats", "/proc/kpagecount", "/proc/kpageflags",
            "/proc/kpagecgroup", "/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/devices/virtual/powercap");

    static Stream<KernelFeatures> variants() {
        return Kernel.featureVariants();
    }

    @ParameterizedTest
    @MethodSource("variants")
    void aRootCommandWithoutCapabilitiesCannotWriteTheKernelsFilesNorReadTheMaskedOnes(KernelFeatures features) throws Exception {
        List<String> writable = new ArrayList<>();
        for (String top : READ_ONLY) ownerWritable(Path.of(top), writable);
        List<String> masked = MASKED.stream().filter(p -> Files.exists(Path.of(p), LinkOption.NOFOLLOW_LINKS)).toList();
        Files.write(tmp.resolve("writable"), writable);
        Files.write(tmp.resolve("masked"), masked);
        Output o = Sandboxes.run(new SandboxRunner(features), Sandboxes.withProc().sys("/sys").roBind(tmp.toString(), "/io")
                .command("sh", "-c", """
                        id -u; grep CapEff /proc/self/status; readlink /proc/self/exe
                        while read -r p; do if (: >> "$p") 2>/dev/null; then echo "WROTE $p"; fi; done < /io/writable
                        while read -r p; do
                          if [ -d "$p" ]; then [ -z "$(ls -A "$p" 2>/dev/null)" ] || echo "READ $p"
                          else [ "$(head -c 64 "$p" 2>/dev/null | wc -c)" -eq 0 ] || echo "READ $p"; fi
                        done < /io/masked
                        """), tmp);
        List<String> lines = o.out().lines().toList();
        long wrote = lines.stream().filter(l -> l.startsWith("WROTE ")).count();
        long read = lines.stream().filter(l -> l.startsWith("READ ")).count();
        Figures.report("security 21 (kernel files from a root sandbox, " + features + "): " + writable.size()
                + " paths the host's root may write tried, " + wrote + " written; " + masked.size() + " masked paths tried, "
                + read + " read");
        assertThat(lines.subList(0, 3)).containsExactly("0", "CapEff:\t0000000000000000", "/usr/bin/readlink");
        assertThat(writable).contains("/proc/sys/kernel/core_pattern");
        assertThat(lines.stream().filter(l -> l.startsWith("WROTE ") || l.startsWith("READ "))).isEmpty();
        assertThat(o.err()).isEmpty();
    }

    /** Regular files under {@code dir}, on its own filesystem, whose owner may write them: what uid 0 may open for writing. */
    private static void ownerWritable(Path dir, List<String> out) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Object device = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        Files.walkFileTree(dir, new SimpleFileVisitor<>() { // symlinks are not followed: sysfs is full of them
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                // Another filesystem mounted here (cgroup2, debugfs, an automounted binfmt_misc) is not the sandbox's.
                return device.equals(Files.getAttribute(d, "unix:dev", LinkOption.NOFOLLOW_LINKS))
                        ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                if (a.isRegularFile() && Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS)
                        .contains(PosixFilePermission.OWNER_WRITE)) {
                    out.add(f.toString());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                return FileVisitResult.CONTINUE; // gone meanwhile (a process's, a hot-plugged device's)
            }
        });
    }
}
