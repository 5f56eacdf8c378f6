package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.shared.proto.TargetStatus;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 17: an unmount that reports EBUSY is retried with backoff, the processes holding
 * the mount are named (log and status), and it is detached lazily only in a context configured for
 * it, which the log says.
 */
@Privileged
class BusyUnmountTest {
    @TempDir Path dir;

    private static String log(DaemonProcess d) {
        try {
            return d.logText();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Process busyIn(Path p) throws Exception {
        return new ProcessBuilder("sleep", "3600").directory(p.toFile()).start();
    }

    @Test
    void busyIsRetriedWithBackoffAndItsHoldersAreNamed() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, null).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            Process busy = busyIn(a);
            try {
                String answer = d.ok("POST", "/v1/release", release("c", h.pid(), "tmpfs::" + a));
                assertThat(answer).contains("busy: " + a).contains("pid " + busy.pid() + " (sleep): cwd");
                waitUntil(() -> log(d).contains("(attempt 4)"), "four busy attempts");
                TargetStatus t = d.status().getContexts(0).getTargets(0);
                assertThat(t.getState()).isEqualTo("unmounting");
                assertThat(t.getBusyWithList()).containsExactly("pid " + busy.pid() + " (sleep): cwd");
                assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
                assertThat(d.logText()).contains("Unmounting " + a + " is busy (attempt 1), held by pid " + busy.pid())
                        .contains("(attempt 4)").doesNotContain("lazily");
            } finally {
                busy.destroyForcibly().waitFor();
            }
            long t0 = System.nanoTime();
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the retried unmount once nothing holds it");
            int attempts = (int) d.logText().lines().filter(l -> l.contains("is busy (attempt")).count();
            Figures.report("unmount busy (a process's cwd in it): retried with doubling backoff, holder named in the"
                    + " log and status, unmounted " + (System.nanoTime() - t0) / 1_000_000 + " ms after the holder"
                    + " ended, 0 lazy detaches (" + attempts + " busy attempts logged)");
        }
    }

    @Test
    void aContextConfiguredForItDetachesLazilyAndSaysSo() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        String policy = "{\"contexts\": {\"lazy\": {\"lazy_unmount\": true}}}";
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, policy).start()) {
            d.ok("POST", "/v1/acquire", acquire("lazy", h.pid(), "tmpfs::" + a));
            Process busy = busyIn(a);
            try {
                d.ok("POST", "/v1/release", releaseAll("lazy", h.pid()));
                waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the lazy detach");
                waitUntil(() -> log(d).contains("lazily"), "the lazy detach to be logged");
                assertThat(d.logText()).contains("Detached \"" + a + "\" lazily").contains("pid " + busy.pid());
                assertThat(d.status().getContextsList()).isEmpty();
                Figures.report("unmount busy in a context configured lazy_unmount: detached lazily after "
                        + Unmounts.LAZY_AFTER + " attempts, logged with its holder");
            } finally {
                busy.destroyForcibly().waitFor();
            }
        }
    }
}
