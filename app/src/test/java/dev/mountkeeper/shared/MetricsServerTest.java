package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The metrics endpoint on HOST:PORT (loopback, a free port): the exposition Prometheus' writer makes, 404 elsewhere. */
class MetricsServerTest {
    @Test
    void servesMetricsOnLoopbackAndNothingElse() throws Exception {
        DaemonMetrics m = new DaemonMetrics();
        m.request("/v1/status", 200);
        m.request("/v1/status", 200);
        m.request("/etc/passwd", 404);
        try (MetricsServer s = MetricsServer.start("127.0.0.1:0", m.registry()); HttpClient c = HttpClient.newHttpClient()) {
            assertThat(s.endpoint()).matches("http://127\\.0\\.0\\.1:[0-9]+/metrics");
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(s.endpoint())).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
            System.out.println(r.body());
            assertThat(DaemonMetricsTest.sample(r.body(), "mountkeeper_daemon_requests_total{code=\"200\",route=\"/v1/status\"}")).isEqualTo(2.0);
            assertThat(DaemonMetricsTest.sample(r.body(), "mountkeeper_daemon_requests_total{code=\"404\",route=\"other\"}")).isEqualTo(1.0);
            assertThat(r.body()).contains("# TYPE mountkeeper_daemon_state_write_seconds histogram");
            HttpResponse<String> other = c.send(HttpRequest.newBuilder(URI.create(s.endpoint().replace("/metrics", "/"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(404);
        }
    }

    @Test
    void aBadAddressIsOneLine() {
        assertThatThrownBy(() -> MetricsServer.inet("localhost")).hasMessage("--metrics-listen \"localhost\" is neither unix:PATH nor HOST:PORT");
        assertThatThrownBy(() -> MetricsServer.inet("localhost:http")).hasMessage("--metrics-listen \"localhost:http\" has no valid port");
    }
}
