package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.UnmountPolicy;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Security tests 8 and 9: read-only holds on every submount; nosuid, nodev, noexec are set and stay. */
@Privileged
class FlagsTest {
    @TempDir Path tmp;

    static Stream<KernelFeatures> features() {
        return Kernel.featureVariants();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void readOnlyHoldsOnEverySubmount(KernelFeatures f) throws Exception {
        Mounter m = new Mounter(f, true, UnmountPolicy.DEFAULT);
        Path src = Files.createDirectories(tmp.resolve("src/a/b"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        try (Root t = Root.open(tmp.toString()); Root r = Root.open(root.toString())) {
            Mounted sub1 = m.mount(t, MountSpecs.parse("tmpfs::/src/a"));
            Files.createDirectories(src);
            Mounted sub2 = m.mount(t, MountSpecs.parse("tmpfs::/src/a/b"));
            Mounted ro = m.mount(r, MountSpecs.parse("rbind:" + tmp + "/src:/ro:ro"));
            int writes = 0, refused = 0;
            for (String p : new String[] {"ro/f", "ro/a/f", "ro/a/b/f"}) {
                writes++;
                try {
                    Files.writeString(root.resolve(p), "x");
                } catch (java.io.IOException e) {
                    assertThat(e).hasMessageContaining("Read-only file system");
                    refused++;
                }
            }
            assertThat(Kernel.mountsBelow(root.toString())).hasSize(3).allMatch(e -> e.readOnly());
            Files.writeString(tmp.resolve("src/a/b/f"), "the source stays writable");
            m.unmounter().unmount(r, ro);
            m.unmounter().unmount(t, sub2);
            m.unmounter().unmount(t, sub1);
            Figures.report("security 8 (read-only recursive bind, " + f + "): " + writes + " writes, "
                    + (writes - refused) + " succeeded");
            assertThat(refused).isEqualTo(writes);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void nosuidNodevNoexecAreSetAndStay(KernelFeatures f) throws Exception {
        Mounter m = new Mounter(f, true, UnmountPolicy.DEFAULT);
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path exe = Files.copy(Path.of("/bin/true"), src.resolve("true"));
        try (Root r = Root.open(tmp.toString())) {
            Mounted b = m.mount(r, MountSpecs.parse("bind:" + src + ":/b:nosuid,nodev,noexec"));
            Mounted t = m.mount(r, MountSpecs.parse("tmpfs::/t:noexec"));
            assertThat(Kernel.mountAt(tmp + "/b").orElseThrow().flags()).isEqualTo("rw,nosuid,nodev,noexec");
            assertThat(Kernel.mountAt(tmp + "/t").orElseThrow().flags()).isEqualTo("rw,nosuid,nodev,noexec");
            assertThatThrownBy(() -> new ProcessBuilder(tmp + "/b/true").start()).hasMessageContaining("Permission denied");
            assertThat(new ProcessBuilder(exe.toString()).start().waitFor()).isZero();
            m.unmounter().unmount(r, t);
            m.unmounter().unmount(r, b);
        }
        Figures.report("security 9 (nosuid,nodev,noexec, " + f + "): flags set as asked, exec on noexec refused");
    }
}
