package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.mount.KernelFeatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What bb_worker does around a runner, for tests: a build directory, a runner serving it on a
 * UNIX socket, and per action a fresh "N/" with root, tmp and the output paths.
 */
final class BuildFarm implements AutoCloseable {
    final Path buildDirectory, socket;
    final RunnerServer server;
    final RunnerClient client;
    private final AtomicInteger actions = new AtomicInteger();

    /** {@code extra} is JSON fields added to the configuration, e.g. {@code "chrootIntoInputRoot": true}. */
    BuildFarm(Path dir, String extra) throws Exception {
        buildDirectory = Files.createDirectories(dir.resolve("build"));
        socket = dir.resolve("runner");
        String json = "{\"buildDirectoryPath\": \"" + buildDirectory + "\", \"grpcServers\": [{\"listenPaths\": [\""
                + socket + "\"], \"authenticationPolicy\": {\"allow\": {}}}]" + (extra.isEmpty() ? "" : ", " + extra) + "}";
        server = RunnerServer.start(RunnerConfig.parse("test", json), KernelFeatures.current());
        client = new RunnerClient(socket);
    }

    /** A fresh action directory with an empty input root and tmp; returns its name. */
    String newAction() throws IOException {
        String n = String.format("%016x", actions.incrementAndGet());
        Files.createDirectories(buildDirectory.resolve(n + "/root"));
        Files.createDirectories(buildDirectory.resolve(n + "/tmp"));
        return n;
    }

    RunRequest.Builder request(String action, String... argv) {
        return RunRequest.newBuilder().addAllArguments(java.util.List.of(argv))
                .putEnvironmentVariables("PATH", "/usr/bin:/bin")
                .setInputRootDirectory(action + "/root").setTemporaryDirectory(action + "/tmp")
                .setStdoutPath(action + "/stdout").setStderrPath(action + "/stderr");
    }

    String stdout(String action) throws IOException {
        return Files.readString(buildDirectory.resolve(action + "/stdout"));
    }

    String stderr(String action) throws IOException {
        return Files.readString(buildDirectory.resolve(action + "/stderr"));
    }

    @Override
    public void close() throws Exception {
        client.close();
        server.close();
    }
}
