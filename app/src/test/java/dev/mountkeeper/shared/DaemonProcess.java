package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.shared.proto.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** `mountkeeper daemon` as its own process in the test JVM's mount namespace; killed, restarted, stopped. */
public final class DaemonProcess implements AutoCloseable {
    public final Path dir, socket, state, log;
    private final Path policy;
    private final List<String> extra = new ArrayList<>();
    private Process process;

    public DaemonProcess(Path dir, String policyJson) throws IOException {
        this.dir = dir;
        this.socket = dir.resolve("daemon.sock");
        this.state = dir.resolve("state");
        this.log = dir.resolve("daemon.log");
        this.policy = policyJson == null ? null : Files.writeString(dir.resolve("policy.json"), policyJson);
    }

    /** The command line that starts the daemon (also handed to the Python stress). */
    public List<String> argv() {
        List<String> a = new ArrayList<>(List.of(dev.mountkeeper.testing.Tools.java(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "dev.mountkeeper.cli.Main", "daemon",
                "--socket", socket.toString(), "--state", state.toString()));
        if (policy != null) a.addAll(List.of("--policy", policy.toString()));
        a.addAll(extra);
        return a;
    }

    /** More options for the daemon's command line, from the next start on. */
    public DaemonProcess with(String... args) {
        extra.addAll(List.of(args));
        return this;
    }

    /** The policy file given with --policy (rewrite it, then {@link #signal} HUP). */
    public Path policyFile() {
        return policy;
    }

    /** Sends {@code signal} (a number, e.g. 1 for SIGHUP) to the daemon. */
    public void signal(int signal) throws IOException {
        dev.mountkeeper.linux.ProcessSyscalls.kill(Math.toIntExact(process.pid()), signal);
    }

    /** Waits until the daemon has ended by itself; its exit code. */
    public int awaitExit() throws InterruptedException {
        awaitDeath();
        return process.exitValue();
    }

    /** Waits until the log has {@code times} lines containing {@code text}; those lines. */
    public List<String> awaitLogLines(String text, int times) throws Exception {
        List<String> found = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            found = logText().lines().filter(l -> l.contains(text)).toList();
            if (found.size() >= times) return found;
            Thread.sleep(10);
        }
        throw new AssertionError("timed out waiting for " + times + " log lines with \"" + text + "\"; found " + found
                + " in:\n" + logText());
    }

    public DaemonProcess start() throws Exception {
        return start(Map.of());
    }

    public DaemonProcess start(Map<String, String> env) throws Exception {
        launch(env);
        call("GET", "/v1/version", null); // waits until it answers
        return this;
    }

    /** Starts the process without waiting for it to answer. */
    public DaemonProcess launch(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        process = pb.start();
        return this;
    }

    public DaemonClient.Reply call(String method, String uri, String json) throws IOException {
        return DaemonClient.call(socket, method, uri, json, Duration.ofSeconds(30));
    }

    /** A request during which the daemon is expected to die: no answer comes. */
    public void callDying(String method, String uri, String json) {
        try {
            call(method, uri, json);
        } catch (IOException expected) {
            // connection closed by the dying daemon
        }
    }

    /** A request that must succeed; its JSON answer. */
    public String ok(String method, String uri, String json) throws IOException {
        DaemonClient.Reply r = call(method, uri, json);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    public Status status() throws IOException {
        return parse(ok("GET", "/v1/status", null), Status.newBuilder()).build();
    }

    public static <B extends Message.Builder> B parse(String json, B b) throws IOException {
        JsonFormat.parser().merge(json, b);
        return b;
    }

    /** Waits until the process ends by itself (a fault injection killed it). */
    public void awaitDeath() throws InterruptedException {
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("daemon died").isTrue();
    }

    public void kill() {
        process.destroyForcibly(); // SIGKILL
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
