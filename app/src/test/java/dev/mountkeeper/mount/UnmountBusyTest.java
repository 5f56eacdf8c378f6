package dev.mountkeeper.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EBUSY: retried with backoff, then reported with its holders; detached lazily only when asked. */
@Privileged
class UnmountBusyTest {
    @TempDir Path tmp;

    @Test
    void busyMountNamesItsHoldersAndDetachesOnlyWhenAsked() throws Exception {
        var policy = new UnmountPolicy(3, Duration.ofMillis(1), false);
        Mounter m = new Mounter(KernelFeatures.current(), true, policy);
        try (Root r = Root.open(tmp.toString())) {
            Mounted t = m.mount(r, MountSpecs.parse("tmpfs::/busy"));
            Files.writeString(tmp.resolve("busy/f"), "x");
            Process sleeper = new ProcessBuilder("sleep", "60").directory(tmp.resolve("busy").toFile()).start();
            try (var held = Files.newInputStream(tmp.resolve("busy/f"))) { // an open fd on the mount
                assertThatThrownBy(() -> m.unmounter().unmount(r, t))
                        .isInstanceOf(MountException.class)
                        .hasMessageContaining("Failed to unmount \"" + tmp + "/busy\" after 3 attempts")
                        .hasMessageContaining("pid " + sleeper.pid() + " (sleep): cwd")
                        .hasMessageContaining("pid " + ProcessHandle.current().pid() + " (java): fd ")
                        .hasMessageContaining("EBUSY")
                        .satisfies(e -> assertThat(((MountException) e).reason()).isEqualTo(MountException.Reason.BUSY));
                assertThat(Kernel.mountAt(tmp + "/busy")).isPresent();
                assertThat(m.unmounter().unmount(r, t, policy.withLazy(true))).isEqualTo(Unmounter.Outcome.DETACHED_LAZILY);
                assertThat(Kernel.mountAt(tmp + "/busy")).isEmpty();
            } finally {
                sleeper.destroyForcibly().waitFor();
            }
        }
    }
}
