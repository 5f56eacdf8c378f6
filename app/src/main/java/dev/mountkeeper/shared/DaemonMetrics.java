package dev.mountkeeper.shared;

import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.shared.proto.TargetState;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The daemon's Prometheus metrics, in a registry of their own. They are always counted (it costs
 * next to nothing); {@link MetricsServer} serves them when {@code --metrics-listen} asks.
 */
public final class DaemonMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("mountkeeper_daemon_requests")
            .help("API requests answered, by route (\"other\" for unknown paths) and HTTP status code")
            .labelNames("route", "code").register(registry);
    private final Gauge references = Gauge.builder().name("mountkeeper_daemon_references")
            .help("References held: one per holder of each target, as last written to the state").register(registry);
    private final Gauge mounts = Gauge.builder().name("mountkeeper_daemon_mounts")
            .help("Targets the daemon keeps, by phase (mounting, mounted, unmounting, recovered)")
            .labelNames("phase").register(registry);
    private final Counter unmountRetries = Counter.builder().name("mountkeeper_daemon_unmount_retries")
            .help("Unmounts put off to a later retry because the mount was busy (or the unmount failed)")
            .register(registry);
    private final Counter holdersReclaimed = Counter.builder().name("mountkeeper_daemon_holders_reclaimed")
            .help("Holder processes that ended while holding references, which the daemon then released")
            .register(registry);
    private final Histogram stateWrites = Histogram.builder().name("mountkeeper_daemon_state_write_seconds")
            .help("Time to write the state and fsync it, per change")
            .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
            .register(registry);

    public PrometheusRegistry registry() {
        return registry;
    }

    void request(String path, int status) {
        String route = status == 404 || path == null || !path.matches("/v1/[a-z]+") ? "other" : path;
        requests.labelValues(route, Integer.toString(status)).inc();
    }

    /** A state written in {@code nanos}: the references and mounts it records. */
    void stateWritten(State s, long nanos) {
        stateWrites.observe(nanos / 1e9);
        int[] byPhase = new int[TargetState.Phase.values().length - 1];
        long refs = 0;
        for (TargetState t : s.getTargetsList()) {
            refs += t.getHoldersCount();
            if (t.getPhaseValue() < byPhase.length) byPhase[t.getPhaseValue()]++;
        }
        references.set(refs);
        for (TargetState.Phase p : TargetState.Phase.values()) {
            if (p != TargetState.Phase.UNRECOGNIZED) mounts.labelValues(p.name().toLowerCase()).set(byPhase[p.getNumber()]);
        }
    }

    void unmountRetried() {
        unmountRetries.inc();
    }

    void holderReclaimed() {
        holdersReclaimed.inc();
    }
}
