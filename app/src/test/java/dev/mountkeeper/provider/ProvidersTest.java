package dev.mountkeeper.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProviders;
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
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executable plugins through the staging place and into a root: file and directory mountpoints,
 * and plugins that fail halfway, hang, lie about the kind, say nothing, mount elsewhere or mount
 * nothing. Each failure is a clear error and leaves no staging entry and no mount.
 */
@Privileged
class ProvidersTest {
    static final Path PLUGINS = Path.of("app/src/test/resources/plugins").toAbsolutePath();
    @TempDir Path dir;

    @BeforeAll
    static void plugins() {
        System.setProperty("mountkeeper.plugin.path", PLUGINS.toString());
        MountProviders.reload();
    }

    @AfterAll
    static void forget() {
        System.clearProperty("mountkeeper.plugin.path");
        MountProviders.reload();
    }

    private Staging staging() throws Exception {
        return Staging.create(dir.resolve("staging").toString(), KernelFeatures.current(), Duration.ofSeconds(2), true);
    }

    private static List<String> entries(Path p) throws Exception {
        try (Stream<Path> s = Files.list(p)) {
            return s.map(x -> x.getFileName().toString()).toList();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "mount-api"})
    void directoryAndFileMountsAreMovedIntoPlaceAndTheirStagingEntriesGo(String fallback) throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path src = Files.writeString(dir.resolve("src.txt"), "from the host\n");
        Mounter m = new Mounter(KernelFeatures.current().without(fallback), true, UnmountPolicy.DEFAULT);
        try (Staging s = staging(); Root r = Root.open(root.toString())) {
            Mounter ms = m.withStager(s);
            Mounted d = ms.mount(r, MountSpecs.parse("tdir::/opt/d:alpha,beta"));
            Mounted f = ms.mount(r, MountSpecs.parse("tfile:" + src + ":/etc/f.txt"));
            Mounted u = ms.mount(r, MountSpecs.parse("tunsaid:" + src + ":/etc/u.txt"));
            assertThat(Files.readString(root.resolve("opt/d/made-by"))).isEqualTo("tdir alpha,beta\n");
            assertThat(Files.readString(root.resolve("etc/f.txt"))).isEqualTo("from the host\n");
            assertThat(Files.isRegularFile(root.resolve("etc/u.txt"))).isTrue();
            assertThat(Kernel.mountsBelow(root.toString())).hasSize(3).allMatch(e -> e.nosuid() && e.nodev());
            assertThat(entries(dir.resolve("staging"))).isEmpty();
            for (Mounted x : List.of(u, f, d)) m.unmounter().unmount(r, x);
        }
        assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "mount-api"})
    void nosuidAndNodevReachWhatLiesOnAProvidersMountAndItsReadOnlyFlagStays(String fallback) throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Mounter m = new Mounter(KernelFeatures.current().without(fallback), true, UnmountPolicy.DEFAULT);
        try (Staging s = staging(); Root r = Root.open(root.toString())) {
            Mounted n = m.withStager(s).mount(r, MountSpecs.parse("tnested::/n"));
            assertThat(Kernel.mountsBelow(root.toString())).extracting(e -> e.mountPoint() + " " + e.flags())
                    .anyMatch(x -> x.startsWith(root.resolve("n") + " ro,nosuid,nodev"))
                    .anyMatch(x -> x.startsWith(root.resolve("n/sub") + " rw,nosuid,nodev"))
                    .hasSize(2);
            m.unmounter().unmount(r, n);
        }
        assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
    }

    @Test
    void badPluginsFailClearlyAndLeaveNothing() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path elsewhere = dir.resolve("elsewhere");
        record Case(String spec, String says) {}
        List<Case> cases = List.of(
                new Case("thalfway::/a", "exited 3: out of quota halfway"),
                new Case("thang::/a", "did not finish within 2000 ms and was killed"),
                new Case("tliar::/a", "said it made a file, but made a directory"),
                new Case("telsewhere:" + elsewhere + ":/a", "mounted outside its staging place: " + elsewhere),
                new Case("tnothing::/a", "mounted nothing on its staging place"));
        Mounter m = new Mounter(KernelFeatures.current(), true, UnmountPolicy.DEFAULT);
        int clean = 0;
        try (Staging s = staging(); Root r = Root.open(root.toString())) {
            for (Case c : cases) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> m.withStager(s).mount(r, MountSpecs.parse(c.spec())))
                        .isInstanceOf(MountException.class).hasMessageContaining(c.says())
                        .hasMessageContaining("Provider \"" + c.spec().substring(0, c.spec().indexOf(':')) + "\"");
                assertThat(entries(dir.resolve("staging"))).as(c.spec()).isEmpty();
                assertThat(Kernel.mountsBelow(root.toString())).as(c.spec()).isEmpty();
                assertThat(Kernel.mountsBelow(dir.toString())).as(c.spec()).extracting(e -> e.mountPoint()).containsExactly(dir.resolve("staging").toString());
                assertThat(Files.exists(root.resolve("a"))).as(c.spec()).isFalse();
                assertThat(ProcessHandle.current().descendants().filter(p -> p.info().commandLine().orElse("").contains(PLUGINS.toString())))
                        .as("plugin processes left").isEmpty();
                clean++;
                if (c.spec().startsWith("thang")) assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
            }
        }
        assertThat(Kernel.mountsBelow(dir.toString())).isEmpty();
        Figures.report("providers that fail halfway, hang, lie about the kind, mount elsewhere, mount nothing: "
                + clean + "/" + cases.size() + " refused with their reason, 0 staging entries, 0 mounts, 0 processes left");
    }

    @Test
    void theDocumentedExamplePluginWorksThroughMountkeeperRun() throws Exception {
        Path seed = Files.createDirectories(dir.resolve("seed"));
        Files.writeString(seed.resolve("config"), "seeded\n");
        System.setProperty("mountkeeper.plugin.path", Path.of("docs/examples/plugins").toAbsolutePath() + ":" + PLUGINS);
        MountProviders.reload();
        try {
            var o = dev.mountkeeper.testing.Sandboxes.run(new dev.mountkeeper.sandbox.SandboxRunner(),
                    dev.mountkeeper.testing.Sandboxes.withProc().mount(MountSpecs.parse("seeded-tmpfs:" + seed + ":/work:size=2m"))
                            .command("sh", "-c", "cat /work/config; echo more >> /work/config; cat /work/config"), dir);
            assertThat(o.result().exitCode()).as(o.err()).isZero();
            assertThat(o.out()).isEqualTo("seeded\nseeded\nmore\n");
            assertThat(Files.readString(seed.resolve("config"))).isEqualTo("seeded\n");
        } finally {
            plugins();
        }
    }

    @Test
    void aHangingPluginFailsTheSandboxInTimeAndLeavesNoProcess() throws Exception {
        System.setProperty("mountkeeper.provider.timeout", "1.5");
        try {
            long t0 = System.nanoTime();
            var b = dev.mountkeeper.testing.Sandboxes.withProc().mount(MountSpecs.parse("thang::/x")).command("true");
            assertThatThrownBy(() -> dev.mountkeeper.testing.Sandboxes.run(new dev.mountkeeper.sandbox.SandboxRunner(), b, dir))
                    .hasMessageContaining("Provider \"thang\" (for \"/x\") failed").hasMessageContaining("did not finish within 1500 ms");
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
            assertThat(dev.mountkeeper.testing.Sandboxes.processesWith("thang")).isEmpty();
            var ok = dev.mountkeeper.testing.Sandboxes.run(new dev.mountkeeper.sandbox.SandboxRunner(),
                    dev.mountkeeper.testing.Sandboxes.withProc().mount(MountSpecs.parse("tdir::/d"))
                            .command("sh", "-c", "grep ' /d ' /proc/self/mountinfo"), dir);
            assertThat(ok.out()).as(ok.err()).contains("rw,nosuid,nodev");
        } finally {
            System.clearProperty("mountkeeper.provider.timeout");
        }
    }
}
