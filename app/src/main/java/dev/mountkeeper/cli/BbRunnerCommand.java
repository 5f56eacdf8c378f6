package dev.mountkeeper.cli;

import dev.mountkeeper.bb.ConfigException;
import dev.mountkeeper.bb.RunnerConfig;
import dev.mountkeeper.bb.RunnerServer;
import dev.mountkeeper.mount.KernelFeatures;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bb-runner", mixinStandardHelpOptions = true,
        header = "Serve Buildbarn's runner protocol: a drop-in for bb_runner, with /proc and /sys.",
        description = {"Evaluate CONFIG (Jsonnet; \"-\" for standard input, std.extVar bound to the",
                "environment) as a bb_runner configuration and serve buildbarn.runner.Runner on its",
                "listen_paths (UNIX sockets) and listen_addresses (TCP), with grpc.health.v1. Each",
                "action runs in its own mount and pid namespaces with the configured mounts; its",
                "process tree and mounts are gone when Run returns. SIGTERM stops the runner."})
final class BbRunnerCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Mixin Logging.Options logging;

    @Parameters(paramLabel = "CONFIG", description = "The configuration, a Jsonnet file, or - for standard input.")
    String config;

    @Override
    public Integer call() throws Exception {
        logging.install("bb-runner");
        PrintWriter err = spec.commandLine().getErr();
        RunnerConfig c;
        RunnerServer server;
        try {
            c = RunnerConfig.load(config, System.getenv(), System.in);
            server = RunnerServer.start(c, KernelFeatures.current());
        } catch (ConfigException e) {
            err.println("mountkeeper bb-runner: " + e.getMessage());
            err.flush();
            return 2;
        }
        RunnerServer.describe(c, new java.io.PrintStream(System.err, true));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "mountkeeper-bb-runner-stop"));
        System.getLogger("mountkeeper.bb-runner").log(System.Logger.Level.INFO, "serving on " + String.join(", ", server.endpoints()));
        server.awaitTermination();
        return 0;
    }
}
