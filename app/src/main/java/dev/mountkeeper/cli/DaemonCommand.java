package dev.mountkeeper.cli;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.shared.Api;
import dev.mountkeeper.shared.DaemonMetrics;
import dev.mountkeeper.shared.DaemonServer;
import dev.mountkeeper.shared.Faults;
import dev.mountkeeper.shared.MetricsServer;
import dev.mountkeeper.shared.MountManager;
import dev.mountkeeper.shared.PolicyFile;
import dev.mountkeeper.shared.SdNotify;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "daemon", mixinStandardHelpOptions = true,
        header = "Serve reference-counted shared mounts to unprivileged clients (runs as root).",
        description = {"Serves the HTTP/JSON API v1 on a UNIX socket (or the socket systemd passes).",
                "A target is mounted on its first acquire and unmounted when its last holder",
                "releases it or dies; the state in --state survives a crash and is reconciled with",
                "the kernel's mount table on start. SIGHUP reloads --policy (a policy that does not",
                "load leaves the old one in force). SIGTERM stops serving, leaves mounts as they are",
                "and exits 0. Under systemd (Type=notify) READY=1 is sent once the socket is served."})
final class DaemonCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");

    @Option(names = "--socket", paramLabel = "PATH", description = "The socket to listen on (not needed under systemd socket activation).")
    Path socket;

    @Option(names = "--state", paramLabel = "DIR", defaultValue = "/run/mountkeeper",
            description = "Where the state is kept (default: ${DEFAULT-VALUE}).")
    Path state;

    @Option(names = "--policy", paramLabel = "FILE", description = "Who may mount what where (JSON); without it only root may.")
    Path policy;

    @Mixin Logging.Options logging;

    @Option(names = "--metrics-listen", paramLabel = "ADDR",
            description = "Serve Prometheus metrics on GET /metrics at unix:PATH (root only) or HOST:PORT (off by default).")
    String metricsListen;

    @Override
    public Integer call() throws Exception {
        logging.install("daemon");
        Integer inherited = systemdSocket();
        if (inherited == null && socket == null) throw new IllegalArgumentException("--socket is required (or systemd socket activation)");
        if (metricsListen != null && !metricsListen.startsWith("unix:")) MetricsServer.inet(metricsListen); // a bad one fails before anything starts
        PolicyFile p = PolicyFile.load(policy);
        // The JVM's own TERM and INT handling would exit 143 or 130; stopping here exits 0, even when the
        // signal comes while the state is still being reconciled.
        CountDownLatch stopping = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stopping.countDown());
        Signal.handle(new Signal("INT"), s -> stopping.countDown());
        Signal.handle(new Signal("HUP"), s -> p.reload());
        DaemonMetrics metrics = new DaemonMetrics();
        MountManager manager = MountManager.start(KernelFeatures.current(), p, state, Faults.fromEnvironment(), metrics);
        MetricsServer metricsServer = null;
        DaemonServer server;
        try {
            if (metricsListen != null) metricsServer = MetricsServer.start(metricsListen, metrics.registry());
            server = DaemonServer.start(new Api(manager), socket, inherited, metrics);
        } catch (IOException | RuntimeException e) {
            if (metricsServer != null) metricsServer.close();
            manager.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "serving API " + Api.VERSION + " on "
                + (inherited != null ? "the socket systemd passed" : socket) + ", state in " + state);
        if (metricsServer != null) LOG.log(System.Logger.Level.INFO, "serving metrics on " + metricsServer.endpoint());
        notifySystemd("READY=1");
        stopping.await();
        notifySystemd("STOPPING=1");
        // Every change is on disk before it is answered; closing the server lets requests under way finish
        // (and write theirs) first.
        server.close();
        if (metricsServer != null) metricsServer.close();
        manager.close();
        LOG.log(System.Logger.Level.INFO, "stopped; the mounts stay as they are, the state in " + state + " has them");
        return 0;
    }

    /** sd_notify(3); a failure is one line in the log, not a reason to stop serving. */
    private static void notifySystemd(String what) {
        try {
            SdNotify.notify(what);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
        }
    }

    /** fd 3 when systemd passed exactly this process a socket (sd_listen_fds(3)). */
    private static Integer systemdSocket() {
        String pid = System.getenv("LISTEN_PID"), fds = System.getenv("LISTEN_FDS");
        if (pid == null || fds == null || !pid.equals(Long.toString(ProcessHandle.current().pid()))) return null;
        return Integer.parseInt(fds) >= 1 ? 3 : null;
    }
}
