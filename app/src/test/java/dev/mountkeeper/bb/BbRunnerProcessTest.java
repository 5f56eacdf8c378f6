package dev.mountkeeper.bb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `mountkeeper bb-runner CONFIG` as its own process, the way a deployment runs it: a configuration
 * in Buildbarn's example form plus mounts, a stale socket in the way, metrics, and SIGTERM while an
 * action runs.
 */
@Privileged
class BbRunnerProcessTest {
    @TempDir Path dir;

    @Test
    void servesMetricsAndStopsOnSigtermWithoutLeavingAnything() throws Exception {
        Path build = Files.createDirectories(dir.resolve("worker/build"));
        Path socket = dir.resolve("worker/runner");
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(java.net.UnixDomainSocketAddress.of(socket)); // left behind, as by a runner that died
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // Started as some container engines start it: with inheritable and ambient capabilities.
        java.util.List<String> argv = new java.util.ArrayList<>(dev.mountkeeper.testing.Tools.withInheritableCapabilities());
        argv.addAll(java.util.List.of(dev.mountkeeper.testing.Tools.java(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), "dev.mountkeeper.cli.Main",
                "bb-runner", Path.of(RunnerConfigTest.DIR, "runner-mounts.jsonnet").toString()));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile());
        pb.environment().putAll(Map.of("OS", "Linux", "PWD", dir.toString(), "METRICS_PORT", Integer.toString(port)));
        Process p = pb.start();
        try {
            for (int i = 0; i < 1000 && !Files.readString(dir.resolve("log")).contains("serving on"); i++) Thread.sleep(20);
            assertThat(Files.readString(dir.resolve("log"))).contains("serving on");
            try (RunnerClient client = new RunnerClient(socket)) {
                Files.createDirectories(build.resolve("1/root"));
                RunResponse r = client.blocking().run(RunRequest.newBuilder().addArguments("sh").addArguments("-c")
                        .addArguments("ls /proc | grep -c '^[0-9]'; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status")
                        .putEnvironmentVariables("PATH", "/bin")
                        .setInputRootDirectory("1/root").setStdoutPath("1/out").setStderrPath("1/err").build());
                assertThat(r.getExitCode()).as(Files.readString(build.resolve("1/err"))).isZero();
                java.util.List<String> caps = Files.readAllLines(build.resolve("1/out")).stream().filter(l -> l.startsWith("Cap")).toList();
                Figures.report("security 22 (bb-runner started with inheritable and ambient capabilities): an action saw "
                        + String.join(", ", caps).replace("\t", " "));
                assertThat(caps).containsExactly("CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                        "CapEff:\t0000000000000000", "CapAmb:\t0000000000000000");
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("mountkeeper_runner_runs_total{code=\"OK\"} 1.0")
                        .contains("mountkeeper_runner_mounts_total{event=\"made\"} 8.0");
                assertThat(metrics).contains("grpc_server_started_total{grpc_method=\"Run\",grpc_service=\"buildbarn.runner.Runner\",grpc_type=\"unary\"} 1.0")
                        .contains("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Run\",grpc_service=\"buildbarn.runner.Runner\",grpc_type=\"unary\"} 1.0")
                        .contains("grpc_server_msg_received_total{grpc_method=\"Run\"").contains("grpc_server_msg_sent_total{grpc_method=\"Run\"")
                        .contains("grpc_server_handling_seconds_bucket{grpc_method=\"Run\"");
                HttpResponse<String> healthy = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + port + "/-/healthy")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(healthy.statusCode()).isEqualTo(200);

                String marker = "bb-sigterm-" + System.nanoTime();
                Files.createDirectories(build.resolve("2/root"));
                Future<RunResponse> running = client.future().run(RunRequest.newBuilder().addArguments("sh").addArguments("-c")
                        .addArguments(BbRunnerTest.daemonAndWait(marker))
                        .putEnvironmentVariables("PATH", "/bin").setInputRootDirectory("2/root")
                        .setStdoutPath("2/out").setStderrPath("2/err").build());
                assertThat(Sandboxes.awaitProcessesWith(marker, 2)).as(() -> "action's stderr: " + readOr(build.resolve("2/err")))
                        .hasSize(2);
                long t0 = System.nanoTime();
                p.toHandle().destroy(); // SIGTERM
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("runner stopped").isTrue();
                Figures.report("bb-runner SIGTERM with an action running: stopped in "
                        + (System.nanoTime() - t0) / 1_000_000 + " ms, " + Sandboxes.processesWith(marker).size()
                        + " processes of the action left");
                assertThat(Sandboxes.processesWith(marker)).isEmpty();
                assertThat(running).failsWithin(5, TimeUnit.SECONDS);
            }
            assertThat(socket).doesNotExist();
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private static String readOr(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
