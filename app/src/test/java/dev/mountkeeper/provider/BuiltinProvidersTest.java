package dev.mountkeeper.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** overlay and image in a real sandbox, premounted before its root exists and moved in. */
@Privileged
class BuiltinProvidersTest {
    @TempDir Path dir;

    private static List<String> loopsBackedBy(Path file) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("loop")).filter(p -> {
                try {
                    return Files.readString(p.resolve("loop/backing_file")).strip().equals(file.toString());
                } catch (Exception none) {
                    return false;
                }
            }).map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void overlayWritesLandInTheUpperAndTheLowersStayUntouched() throws Exception {
        Path lower1 = Files.createDirectories(dir.resolve("toolchain")), lower2 = Files.createDirectories(dir.resolve("extra"));
        Files.writeString(lower1.resolve("cc"), "compiler v1\n");
        Files.writeString(lower2.resolve("notes"), "from the second lower\n");
        Sandboxes.Output o = Sandboxes.run(new SandboxRunner(), Sandboxes.withProc()
                .mount(MountSpecs.parse("overlay:" + lower1 + "+" + lower2 + ":/opt/tc:size=4m"))
                .command("sh", "-c", "echo v2 > /opt/tc/cc; echo new > /opt/tc/built; rm /opt/tc/notes;"
                        + " cat /opt/tc/cc /opt/tc/built; ls /opt/tc; grep ' /opt/tc ' /proc/self/mountinfo"), dir);
        assertThat(o.result().exitCode()).as(o.err()).isZero();
        // The lowers go to overlayfs as the descriptors opened once, so the table names those.
        assertThat(o.out()).startsWith("v2\nnew\nbuilt\ncc\n").containsPattern(" - overlay overlay rw,lowerdir="
                + "/proc/thread-self/fd/[0-9]+:/proc/thread-self/fd/[0-9]+,upperdir=/tmp/\\.mountkeeper-0-[^/,]+/staging/m0\\.upper/upper");
        assertThat(Files.readString(lower1.resolve("cc"))).isEqualTo("compiler v1\n");
        assertThat(Files.readString(lower2.resolve("notes"))).isEqualTo("from the second lower\n");
        try (Stream<Path> s = Files.list(lower1)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("cc");
        }
        assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
        Figures.report("overlay provider: 3 writes in the sandbox went to its tmpfs upper, 0 changes to the 2 lowers, 0 mounts left");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"squashfs", "ext4"})
    void anImageIsMountedReadOnlyAndItsLoopDeviceGoesWithIt(String type) throws Exception {
        Path content = Files.createDirectories(dir.resolve("content/sub"));
        Files.writeString(content.resolve("hello.txt"), "from the image\n");
        Path image = dir.resolve("image." + type);
        List<String> build = type.equals("squashfs")
                ? List.of(Tools.require("mksquashfs (squashfs-tools)", List.of("/usr/bin/mksquashfs", "/usr/sbin/mksquashfs"))
                        .toString(), dir.resolve("content").toString(), image.toString(), "-quiet", "-noappend")
                : List.of(Tools.require("mkfs.ext4 (e2fsprogs)", List.of("/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4")).toString(),
                        "-q", "-F", "-d", dir.resolve("content").toString(), image.toString(), "8M");
        assertThat(new ProcessBuilder(build).inheritIO().start().waitFor()).isZero();
        Sandboxes.Output o = Sandboxes.run(new SandboxRunner(), Sandboxes.withProc()
                .mount(MountSpecs.parse("image:" + image + ":/img"))
                .command("sh", "-c", "cat /img/sub/hello.txt; grep ' /img ' /proc/self/mountinfo; touch /img/x 2>&1"), dir);
        assertThat(o.out()).as(o.err()).startsWith("from the image\n").contains(" - " + type + " /dev/loop").contains(" ro,")
                .contains("Read-only file system");
        assertThat(loopsBackedBy(image)).as("loop devices left").isEmpty();
        assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
        Figures.report("image provider: " + type + " image built by " + Path.of(build.getFirst()).getFileName()
                + " mounted read-only (writes refused), 0 loop devices and 0 mounts left");
    }
}
