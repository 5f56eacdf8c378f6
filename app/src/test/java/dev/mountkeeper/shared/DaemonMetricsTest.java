package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --metrics-listen: after requests whose effects the test knows (acquires, a 404, a busy unmount,
 * a holder killed), a scrape of /metrics shows each family of the daemon with those values.
 */
@Privileged
class DaemonMetricsTest {
    @TempDir Path dir;

    /** The value of the sample {@code name{labels}} (exactly that series) in an exposition; null if absent. */
    static Double sample(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1).split(" ")[0])).orElse(null);
    }

    private static String scrape(Path socket) throws Exception {
        DaemonClient.Reply r = DaemonClient.call(socket, "GET", "/metrics", null, Duration.ofSeconds(10));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    /** Scrapes until {@code series} has {@code value} (the gauges follow the state write after each change); that scrape. */
    private static String awaitSample(Path socket, String series, double value) throws Exception {
        String[] last = {""};
        waitUntil(() -> {
            try {
                last[0] = scrape(socket);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return Double.valueOf(value).equals(sample(last[0], series));
        }, series + " to be " + value);
        return last[0];
    }

    @Test
    void scrapeShowsRequestsReferencesMountsRetriesReclaimsAndStateWrites() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a")), b = Files.createDirectories(dir.resolve("root/b"));
        Path metrics = dir.resolve("metrics.sock");
        try (HolderProcess h1 = new HolderProcess(); HolderProcess h2 = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, null).with("--metrics-listen", "unix:" + metrics).start()) {
            d.awaitLogLines("serving metrics on unix:" + metrics, 1);
            d.ok("POST", "/v1/acquire", acquire("c", h1.pid(), "tmpfs::" + a, "tmpfs::" + b));
            d.ok("POST", "/v1/acquire", acquire("c", h2.pid(), "tmpfs::" + a));
            assertThat(d.call("GET", "/v1/nothing", null).status()).isEqualTo(404);
            String held = scrape(metrics);
            assertThat(sample(held, "mountkeeper_daemon_requests_total{code=\"200\",route=\"/v1/acquire\"}")).isEqualTo(2.0);
            assertThat(sample(held, "mountkeeper_daemon_requests_total{code=\"404\",route=\"other\"}")).isEqualTo(1.0);
            assertThat(sample(held, "mountkeeper_daemon_requests_total{code=\"200\",route=\"/v1/version\"}")).isGreaterThanOrEqualTo(1.0);
            assertThat(sample(held, "mountkeeper_daemon_references")).isEqualTo(3.0); // h1 on a and b, h2 on a
            assertThat(sample(held, "mountkeeper_daemon_mounts{phase=\"mounted\"}")).isEqualTo(2.0);
            assertThat(sample(held, "mountkeeper_daemon_unmount_retries_total")).isEqualTo(0.0);
            assertThat(sample(held, "mountkeeper_daemon_holders_reclaimed_total")).isEqualTo(0.0);
            double writes = sample(held, "mountkeeper_daemon_state_write_seconds_count");
            assertThat(writes).isGreaterThanOrEqualTo(4.0); // start, and a reservation and a commit per acquire
            assertThat(sample(held, "mountkeeper_daemon_state_write_seconds_sum")).isPositive();

            // b busy when h1 lets it go: its unmount is retried, then done once the process has left.
            Process busy = new ProcessBuilder("sleep", "3600").directory(b.toFile()).start();
            try {
                d.ok("POST", "/v1/release", release("c", h1.pid(), "tmpfs::" + b));
                d.awaitLogLines("(attempt 2)", 1);
            } finally {
                busy.destroyForcibly().waitFor();
            }
            waitUntil(() -> unchecked(dir.resolve("root")).equals(java.util.List.of(a.toString())), "b's unmount");
            // h2 killed: its reference to a is reclaimed; h1 still holds a.
            h2.kill();
            d.awaitLogLines("Holder pid " + h2.pid() + " ended", 1);
            awaitSample(metrics, "mountkeeper_daemon_mounts{phase=\"unmounting\"}", 0.0);
            String after = awaitSample(metrics, "mountkeeper_daemon_references", 1.0);
            double retries = sample(after, "mountkeeper_daemon_unmount_retries_total");
            assertThat(retries).isGreaterThanOrEqualTo(1.0);
            assertThat(sample(after, "mountkeeper_daemon_holders_reclaimed_total")).isEqualTo(1.0);
            assertThat(sample(after, "mountkeeper_daemon_references")).isEqualTo(1.0);
            assertThat(sample(after, "mountkeeper_daemon_mounts{phase=\"mounted\"}")).isEqualTo(1.0);
            assertThat(sample(after, "mountkeeper_daemon_mounts{phase=\"unmounting\"}")).isEqualTo(0.0);
            assertThat(sample(after, "mountkeeper_daemon_requests_total{code=\"200\",route=\"/v1/release\"}")).isEqualTo(1.0);
            assertThat(sample(after, "mountkeeper_daemon_state_write_seconds_count")).isGreaterThan(writes);
            assertThat(Files.getPosixFilePermissions(metrics)).hasSize(2); // rw------- : root's
            d.ok("POST", "/v1/release", releaseAll("c", h1.pid()));
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "a's unmount");
            Figures.report("daemon metrics: 6 families scraped over unix:" + metrics.getFileName() + "; " + (int) retries
                    + " busy unmount retries, 1 holder reclaimed, " + sample(after, "mountkeeper_daemon_state_write_seconds_count").intValue()
                    + " state writes");
        }
        assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
        assertThat(Files.exists(metrics)).as("metrics socket removed on stop").isFalse();
    }

    /** A bad address is a usage error (exit 2), a port in use a failure (exit 1): one line each, and no daemon left. */
    @Test
    void aBadOrBusyMetricsAddressIsOneLine() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String busy = "127.0.0.1:" + taken.getLocalPort();
            record Case(String address, int exit, String says) {}
            for (Case c : java.util.List.of(new Case("nowhere", 2, "mountkeeper daemon: --metrics-listen \"nowhere\" is neither unix:PATH nor HOST:PORT"),
                    new Case(busy, 1, "mountkeeper daemon: Failed to listen for metrics on " + busy + ": "))) {
                Path d = Files.createDirectories(dir.resolve("d" + c.exit()));
                DaemonProcess daemon = new DaemonProcess(d, null).with("--metrics-listen", c.address());
                Process p = new ProcessBuilder(daemon.argv()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertThat(p.waitFor()).as(out).isEqualTo(c.exit());
                java.util.List<String> lines = out.lines().filter(l -> !l.startsWith("WARNING:")).toList();
                System.out.println(c.address() + " -> exit " + p.exitValue() + ": " + lines);
                assertThat(lines.getFirst()).startsWith(c.says());
                assertThat(lines).hasSize(1);
                assertThat(Files.exists(daemon.socket)).isFalse();
            }
        }
    }
}
