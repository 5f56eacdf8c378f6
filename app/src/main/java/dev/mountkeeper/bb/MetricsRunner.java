package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Prometheus metrics of the runner: runs and their durations by gRPC code, actions running, mounts. */
final class MetricsRunner implements Runner {
    /** The runner's metrics, registered once per registry. */
    static final class Metrics implements LocalRunner.MountListener {
        final Counter runs, mounts, readinessFailures;
        final Histogram durations;
        final Gauge running;

        Metrics(PrometheusRegistry registry) {
            runs = Counter.builder().name("mountkeeper_runner_runs").help("Run calls, by gRPC status code")
                    .labelNames("code").register(registry);
            durations = Histogram.builder().name("mountkeeper_runner_run_duration_seconds")
                    .help("Duration of Run calls, by gRPC status code").labelNames("code").register(registry);
            running = Gauge.builder().name("mountkeeper_runner_running_actions").help("Actions running now")
                    .register(registry);
            mounts = Counter.builder().name("mountkeeper_runner_mounts")
                    .help("Mounts made for actions (event=made) and removed with their namespace (event=removed)")
                    .labelNames("event").register(registry);
            readinessFailures = Counter.builder().name("mountkeeper_runner_readiness_failures")
                    .help("CheckReadiness calls that said the runner is not ready").register(registry);
        }

        @Override
        public void mounts(int made, int removed) {
            mounts.labelValues("made").inc(made);
            mounts.labelValues("removed").inc(removed);
        }
    }

    private final Runner base;
    private final Metrics metrics;

    MetricsRunner(Runner base, Metrics metrics) {
        this.base = base;
        this.metrics = metrics;
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        long start = System.nanoTime();
        Status.Code code = Status.Code.OK;
        metrics.running.inc();
        try {
            return base.run(request);
        } catch (StatusException e) {
            code = e.getStatus().getCode();
            throw e;
        } catch (RuntimeException e) {
            code = Status.Code.INTERNAL;
            throw e;
        } finally {
            metrics.running.dec();
            metrics.runs.labelValues(code.name()).inc();
            metrics.durations.labelValues(code.name()).observe((System.nanoTime() - start) / 1e9);
        }
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        try {
            base.checkReadiness(request);
        } catch (StatusException e) {
            metrics.readinessFailures.inc();
            throw e;
        }
    }
}
