package dev.mountkeeper.bb;

import com.google.protobuf.Duration;
import dev.mountkeeper.bb.proto.config.ApplicationConfiguration;
import dev.mountkeeper.bb.proto.config.DiagnosticsHTTPServerConfiguration;
import dev.mountkeeper.bb.proto.config.ServerConfiguration;
import dev.mountkeeper.bb.proto.config.http.Configuration;
import dev.mountkeeper.linux.UnixSockets;
import dev.mountkeeper.mount.KernelFeatures;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.grpc.protobuf.services.HealthStatusManager;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The running bb-runner: gRPC servers on every listen path (UNIX sockets) and address (TCP), with
 * grpc.health.v1, and Prometheus metrics on the diagnostics HTTP servers.
 */
public final class RunnerServer implements AutoCloseable {
    // grpc-java sets SO_KEEPALIVE on every accepted channel, and Netty warns once per connection
    // that a UNIX socket has no such option: a line per worker connection that says nothing.
    // Held here so that the level stays set (JUL keeps loggers weakly).
    private static final java.util.logging.Logger BOOTSTRAP_LOG =
            java.util.logging.Logger.getLogger("io.netty.bootstrap.ServerBootstrap");

    static {
        BOOTSTRAP_LOG.setLevel(java.util.logging.Level.SEVERE);
    }
    private final List<Server> servers = new ArrayList<>();
    private final List<HTTPServer> metricsServers = new ArrayList<>();
    private final GrpcMetrics grpcMetrics;
    private final HealthStatusManager health = new HealthStatusManager();
    private final EventLoopGroup boss = new EpollEventLoopGroup(1), workers = new EpollEventLoopGroup(2);
    private final BuildDirectory buildDirectory;
    private final boolean graceful;
    private final List<String> endpoints = new ArrayList<>();

    private RunnerServer(RunnerConfig config, KernelFeatures features, PrometheusRegistry registry) throws ConfigException {
        ApplicationConfiguration c = config.proto();
        buildDirectory = Runners.buildDirectory(config);
        graceful = c.getGrpcServersList().stream().anyMatch(ServerConfiguration::getStopGracefully);
        // global.set_umask, as bb-storage's global configuration applies it: process-wide, so actions inherit it.
        if (c.getGlobal().hasSetUmask()) dev.mountkeeper.linux.ProcessSyscalls.umask(c.getGlobal().getSetUmask().getUmask());
        Runner runner = Runners.fromConfig(config, buildDirectory, features, new MetricsRunner.Metrics(registry));
        RunnerService service = new RunnerService(runner);
        grpcMetrics = new GrpcMetrics(registry);
        try {
            for (ServerConfiguration s : c.getGrpcServersList()) {
                for (String path : s.getListenPathsList()) {
                    UnixSockets.removeStale(Path.of(path));
                    start(s, service, new DomainSocketAddress(path), true);
                    endpoints.add("unix:" + path);
                }
                for (String address : s.getListenAddressesList()) {
                    start(s, service, inet("grpc_servers.listen_addresses", address), false);
                    endpoints.add(address);
                }
                if (!s.getHealthCheckService().isEmpty()) health.setStatus(s.getHealthCheckService(), ServingStatus.SERVING);
            }
            DiagnosticsHTTPServerConfiguration d = c.getGlobal().getDiagnosticsHttpServer();
            // As bb-storage's diagnostics server: /-/healthy always, the metrics only with enable_prometheus.
            for (Configuration h : d.getHttpServersList()) {
                for (String address : h.getListenAddressesList()) {
                    InetSocketAddress a = inet("diagnostics_http_server.listen_addresses", address);
                    metricsServers.add(HTTPServer.builder().inetAddress(a.getAddress()).port(a.getPort())
                            .registry(d.getEnablePrometheus() ? registry : new PrometheusRegistry()).buildAndStart());
                    endpoints.add("http://" + address + (d.getEnablePrometheus() ? "/metrics" : "/-/healthy"));
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw new ConfigException("Failed to listen: " + e.getMessage(), e);
        }
    }

    /** Starts everything the configuration asks for; {@link #close()} stops it. */
    public static RunnerServer start(RunnerConfig config, KernelFeatures features) throws ConfigException {
        return new RunnerServer(config, features, new PrometheusRegistry());
    }

    public List<String> endpoints() {
        return List.copyOf(endpoints);
    }

    private void start(ServerConfiguration s, RunnerService service, SocketAddress address, boolean unix)
            throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(address)
                .channelType(unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
                .bossEventLoopGroup(boss).workerEventLoopGroup(workers)
                .addService(service).addService(health.getHealthService())
                .intercept(new Authentication(s.getAuthenticationPolicy())).intercept(grpcMetrics);
        if (s.getMaximumReceivedMessageSizeBytes() > 0) b.maxInboundMessageSize((int) s.getMaximumReceivedMessageSizeBytes());
        if (s.getInitialConnWindowSizeBytes() > 0) b.flowControlWindow(s.getInitialConnWindowSizeBytes());
        if (s.hasKeepaliveEnforcementPolicy()) {
            var k = s.getKeepaliveEnforcementPolicy();
            if (k.hasMinTime()) b.permitKeepAliveTime(nanos(k.getMinTime()), TimeUnit.NANOSECONDS);
            b.permitKeepAliveWithoutCalls(k.getPermitWithoutStream());
        }
        if (s.hasKeepaliveParameters()) {
            var k = s.getKeepaliveParameters();
            if (k.hasMaxConnectionIdle()) b.maxConnectionIdle(nanos(k.getMaxConnectionIdle()), TimeUnit.NANOSECONDS);
            if (k.hasMaxConnectionAge()) b.maxConnectionAge(nanos(k.getMaxConnectionAge()), TimeUnit.NANOSECONDS);
            if (k.hasMaxConnectionAgeGrace()) {
                b.maxConnectionAgeGrace(nanos(k.getMaxConnectionAgeGrace()), TimeUnit.NANOSECONDS);
            }
            if (k.hasTime()) b.keepAliveTime(nanos(k.getTime()), TimeUnit.NANOSECONDS);
            if (k.hasTimeout()) b.keepAliveTimeout(nanos(k.getTimeout()), TimeUnit.NANOSECONDS);
        }
        servers.add(b.build().start());
    }

    private static long nanos(Duration d) {
        return d.getSeconds() * 1_000_000_000L + d.getNanos();
    }

    /** "host:port", ":port" (every interface) or "[v6]:port". */
    static InetSocketAddress inet(String what, String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException(what + " \"" + address + "\" has no port");
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " \"" + address + "\" has no valid port");
        }
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    /** Blocks until the servers have stopped. */
    public void awaitTermination() throws InterruptedException {
        for (Server s : servers) s.awaitTermination();
    }

    /**
     * Stops serving. With stop_gracefully, running actions finish first; otherwise they are cancelled,
     * which kills their process trees. Either way every action has ended, with its mounts, on return.
     */
    @Override
    public void close() {
        health.enterTerminalState();
        for (Server s : servers) {
            if (graceful) s.shutdown();
            else s.shutdownNow();
        }
        try {
            for (Server s : servers) s.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (HTTPServer h : metricsServers) h.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        buildDirectory.close();
        for (String e : endpoints) {
            if (e.startsWith("unix:")) {
                try {
                    Files.deleteIfExists(Path.of(e.substring(5)));
                } catch (IOException ignored) {
                    // best effort: a stale socket is removed on the next start anyway
                }
            }
        }
    }

    public static void describe(RunnerConfig config, PrintStream err) {
        var g = config.proto().getGlobal();
        List<String> unused = new ArrayList<>();
        if (g.hasTracing()) unused.add("tracing");
        if (g.hasPrometheusPushgateway()) unused.add("prometheus_pushgateway");
        if (g.getLogPathsCount() > 0) unused.add("log_paths");
        if (g.getDiagnosticsHttpServer().getEnablePprof()) unused.add("diagnostics_http_server.enable_pprof");
        if (g.getDiagnosticsHttpServer().getEnableActiveSpans()) unused.add("diagnostics_http_server.enable_active_spans");
        if (g.getMutexProfileFraction() != 0) unused.add("mutex_profile_fraction");
        if (g.getGrpcForwardAndReuseMetadataCount() > 0) unused.add("grpc_forward_and_reuse_metadata");
        if (g.getGrpcKubernetesResolversCount() > 0) unused.add("grpc_kubernetes_resolvers");
        if (!unused.isEmpty()) {
            err.println("mountkeeper bb-runner: global diagnostics settings not used by mountkeeper: "
                    + String.join(", ", unused));
        }
    }
}
