package dev.mountkeeper.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every spec type, mounted for real and checked in the kernel's table, on every kernel path. */
@Privileged
class MounterTest {
    @TempDir Path tmp;

    static Stream<KernelFeatures> features() {
        return Kernel.featureVariants();
    }

    private Mounter mounter(KernelFeatures f) {
        return new Mounter(f, true, UnmountPolicy.DEFAULT);
    }

    private Mounted mount(Mounter m, Root r, String spec) throws Exception {
        return m.mount(r, MountSpecs.parse(spec));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void freshFilesystemsGetSecureDefaultsAndGoAwayCleanly(KernelFeatures f) throws Exception {
        Mounter m = mounter(f);
        try (Root r = Root.open(tmp.toString())) {
            List<Mounted> done = m.mountAll(r, MountSpecs.parseAll(List.of("proc::/proc", "sysfs::/sys:ro",
                    "tmpfs::/tmp:size=1m,mode=1777", "mqueue::/dev/mqueue", "devpts::/dev/pts")));
            var proc = Kernel.mountAt(tmp + "/proc").orElseThrow();
            assertThat(proc.fsType()).isEqualTo("proc");
            assertThat(proc.flags()).isEqualTo("rw,nosuid,nodev,noexec");
            assertThat(proc.propagation()).isEqualTo("private");
            assertThat(Kernel.mountAt(tmp + "/sys").orElseThrow().flags()).isEqualTo("ro,nosuid,nodev,noexec");
            var t = Kernel.mountAt(tmp + "/tmp").orElseThrow();
            assertThat(t.fsType()).isEqualTo("tmpfs");
            assertThat(t.flags()).isEqualTo("rw,nosuid,nodev");
            assertThat((int) Files.getAttribute(tmp.resolve("tmp"), "unix:mode") & 07777).isEqualTo(01777);
            assertThat(Kernel.mountAt(tmp + "/dev/pts").orElseThrow().flags()).isEqualTo("rw,nosuid,noexec");
            assertThat(Files.exists(tmp.resolve("proc/self/status"))).isTrue();
            for (Mounted x : done.reversed()) assertThat(m.unmounter().unmount(r, x)).isEqualTo(Unmounter.Outcome.UNMOUNTED);
            assertThat(Kernel.mountsBelow(tmp.toString())).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void bindsAreReadOnlyWhereAskedAndPrivateByDefault(KernelFeatures f) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("hello"), "hi");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Mounter m = mounter(f);
        try (Root r = Root.open(root.toString())) {
            Mounted rw = mount(m, r, "bind:" + src + ":/rw");
            Mounted ro = mount(m, r, "ro-bind:" + src + ":/ro");
            Mounted file = mount(m, r, "bind:" + src + "/hello:/etc/hello:ro,nosuid,nodev,noexec");
            assertThat(Kernel.mountAt(root + "/rw").orElseThrow().flags()).isEqualTo("rw");
            assertThat(Kernel.mountAt(root + "/ro").orElseThrow().flags()).isEqualTo("ro");
            assertThat(Kernel.mountAt(root + "/etc/hello").orElseThrow().flags()).isEqualTo("ro,nosuid,nodev,noexec");
            assertThat(Files.readString(root.resolve("ro/hello"))).isEqualTo("hi");
            Files.writeString(root.resolve("rw/new"), "x");
            assertThatThrownBy(() -> Files.writeString(root.resolve("ro/new2"), "x")).hasMessageContaining("Read-only");
            assertThatThrownBy(() -> Files.writeString(root.resolve("etc/hello"), "x")).hasMessageContaining("Read-only");
            for (Mounted x : List.of(file, ro, rw)) m.unmounter().unmount(r, x);
            assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void flagsAskedForAreAddedToWhatTheSourceMountsHaveNotSetInTheirPlace(KernelFeatures f) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/sub"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        Mounter m = mounter(f);
        try (Root s = Root.open(tmp.toString()); Root r = Root.open(root.toString())) {
            Mounted top = mount(m, s, "tmpfs::/src");
            Mounted sub = mount(m, s, "tmpfs::/src/sub:ro");
            Mounted rb = mount(m, r, "rbind:" + tmp + "/src:/b:nosuid,nodev");
            Mounted b = mount(m, r, "bind:" + tmp + "/src/sub:/c:noexec");
            // A read-only source mount stays read-only, as mount_setattr leaves it, on the classic path too.
            assertThat(Kernel.mountAt(root + "/b").orElseThrow().flags()).isEqualTo("rw,nosuid,nodev");
            assertThat(Kernel.mountAt(root + "/b/sub").orElseThrow().flags()).startsWith("ro,nosuid,nodev");
            assertThat(Kernel.mountAt(root + "/c").orElseThrow().flags()).startsWith("ro").endsWith("noexec");
            m.unmounter().unmount(r, b);
            m.unmounter().unmount(r, rb);
            assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
            m.unmounter().unmount(s, sub);
            m.unmounter().unmount(s, top);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void devIsMinimalAndItsNodesWork(KernelFeatures f) throws Exception {
        Mounter m = mounter(f);
        try (Root r = Root.open(tmp.toString())) {
            Mounted dev = mount(m, r, "dev::/dev");
            try (var names = Files.list(tmp.resolve("dev"))) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("null", "zero", "full",
                        "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr", "ptmx", "core", "shm", "pts");
            }
            Files.writeString(tmp.resolve("dev/null"), "discarded");
            try (var in = Files.newInputStream(tmp.resolve("dev/zero"))) {
                assertThat(in.readNBytes(4)).containsExactly(0, 0, 0, 0);
            }
            assertThat(Files.readSymbolicLink(tmp.resolve("dev/stdout")).toString()).isEqualTo("/proc/self/fd/1");
            assertThat(Files.getAttribute(tmp.resolve("dev/shm"), "unix:mode")).isEqualTo(041777);
            assertThat(Kernel.mountsBelow(tmp + "/dev")).hasSize(7);
            m.unmounter().unmount(r, dev);
            assertThat(Kernel.mountsBelow(tmp.toString())).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void recursiveBindsCarrySubmountsAndUnmountDeepestFirst(KernelFeatures f) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/sub"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        Mounter m = mounter(f);
        try (Root s = Root.open(tmp.toString()); Root r = Root.open(root.toString())) {
            Mounted inner = mount(m, s, "tmpfs::/src/sub");
            Mounted rb = mount(m, r, "rbind:" + tmp + "/src:/src");
            assertThat(Kernel.mountAt(root + "/src/sub").orElseThrow().fsType()).isEqualTo("tmpfs");
            assertThat(Kernel.mountAt(root + "/src").orElseThrow().propagation()).startsWith("private"); // slave of a private mount is private
            m.unmounter().unmount(r, rb);
            assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
            m.unmounter().unmount(s, inner);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void dirsAndSymlinksAreMadeInsideTheRoot(KernelFeatures f) throws Exception {
        Mounter m = mounter(f);
        try (Root r = Root.open(tmp.toString())) {
            Mounted d = mount(m, r, "dir::/a/b/c:mode=0700");
            Mounted l = mount(m, r, "symlink:usr/lib:/lib");
            assertThat(d.path()).isEqualTo("/a/b/c");
            assertThat(d.isMount()).isFalse();
            assertThat(Files.getAttribute(tmp.resolve("a/b/c"), "unix:mode")).isEqualTo(040700);
            assertThat(l.path()).isEqualTo("/lib");
            assertThat(Files.readSymbolicLink(tmp.resolve("lib")).toString()).isEqualTo("usr/lib");
            assertThat(mount(m, r, "symlink:usr/lib:/lib").path()).isEqualTo("/lib"); // idempotent
            assertThatThrownBy(() -> mount(m, r, "symlink:usr/lib64:/lib")).hasMessageContaining("not to \"usr/lib64\"");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("features")
    void laterMountsStackOverEarlierOnesAndUnmountTopFirst(KernelFeatures f) throws Exception {
        Mounter m = mounter(f);
        try (Root r = Root.open(tmp.toString())) {
            Mounted lower = mount(m, r, "tmpfs::/t");
            Mounted upper = mount(m, r, "tmpfs::/t:ro");
            var table = MountTable.of(f).read();
            assertThat(MountTable.below(table, tmp + "/t").getFirst().id()).isEqualTo(upper.mountId());
            // The lower one has a mount on top: unmounting it takes the upper with it, deepest first.
            m.unmounter().unmount(r, lower);
            assertThat(Kernel.mountsBelow(tmp.toString())).isEmpty();
        }
    }
}
