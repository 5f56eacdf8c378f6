package dev.mountkeeper.bb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Tools;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runner as a Kubernetes deployment runs it: uid and gid 65534, no supplementary groups,
 * no_new_privs (allowPrivilegeEscalation: false), no capabilities. With the deployment examples'
 * three configurations (bare, compose, Kubernetes: written here in their shapes, their /worker
 * put under the test's directory) actions run as bb_runner runs them; with a chroot or mounts,
 * which need namespaces, readiness says what is missing instead of OK.
 */
@Privileged
class BbRunnerUnprivilegedTest {
    static final int NOBODY = 65534;
    @TempDir Path dir;

    static String config(String shape, Path worker, int port) {
        String global = "{diagnosticsHttpServer: {httpServers: [{listenAddresses: [':" + port
                + "'], authenticationPolicy: {allow: {}}}], enablePrometheus: true, enablePprof: true, enableActiveSpans: true}}";
        return switch (shape) {
            // bare: relative to PWD, diagnostics on a port
            case "bare" -> "{buildDirectoryPath: std.extVar('PWD') + '/worker/build', global: " + global
                    + ", grpcServers: [{listenPaths: ['worker/runner'], authenticationPolicy: {allow: {}}}]}";
            // compose: absolute paths, the common global block
            case "compose" -> "{buildDirectoryPath: '" + worker + "/build', global: " + global
                    + ", grpcServers: [{listenPaths: ['" + worker + "/runner'], authenticationPolicy: {allow: {}}}]}";
            // Kubernetes: absolute paths, no global block
            case "kubernetes" -> "{buildDirectoryPath: '" + worker + "/build', grpcServers: [{listenPaths: ['" + worker
                    + "/runner'], authenticationPolicy: {allow: {}}}]}";
            case "chroot" -> "{buildDirectoryPath: '" + worker + "/build', chrootIntoInputRoot: true, grpcServers: [{listenPaths: ['"
                    + worker + "/runner'], authenticationPolicy: {allow: {}}}]}";
            case "mounts" -> "{buildDirectoryPath: '" + worker + "/build', inputRootMounts: [{mountpoint: 'proc', filesystemType: 'proc'}],"
                    + " grpcServers: [{listenPaths: ['" + worker + "/runner'], authenticationPolicy: {allow: {}}}]}";
            default -> throw new IllegalArgumentException(shape);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"bare", "compose", "kubernetes", "chroot", "mounts"})
    void runsAsNobody(String shape) throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path worker = Files.createDirectories(dir.resolve("worker"));
        Path build = Files.createDirectories(worker.resolve("build/1/root"));
        Files.createDirectories(worker.resolve("build/1/tmp"));
        Files.createFile(worker.resolve("build/1/check_readiness"));
        try (Stream<Path> s = Files.walk(worker)) {
            for (Path p : s.toList()) Files.setOwner(p, p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("runner.jsonnet"), config(shape, worker, port));
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid", "" + NOBODY, "--regid", "" + NOBODY, "--clear-groups",
                "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", Tools.java(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", readableClassPath(), "dev.mountkeeper.cli.Main", "bb-runner",
                "runner.jsonnet"));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").toFile());
        pb.environment().putAll(Map.of("PWD", dir.toString(), "OS", "Linux"));
        Process p = pb.start();
        try {
            for (int i = 0; i < 1000 && p.isAlive() && !Files.readString(dir.resolve("log")).contains("serving on"); i++) Thread.sleep(20);
            assertThat(Files.readString(dir.resolve("log"))).contains("serving on");
            try (RunnerClient client = new RunnerClient(worker.resolve("runner"))) {
                CheckReadinessRequest ready = CheckReadinessRequest.newBuilder().setPath("1/check_readiness").build();
                RunRequest run = RunRequest.newBuilder().addArguments("sh").addArguments("-c")
                        .addArguments("id -u; echo \"$TMPDIR\"").putEnvironmentVariables("PATH", "/usr/bin:/bin")
                        .setInputRootDirectory("1/root").setTemporaryDirectory("1/tmp")
                        .setStdoutPath("1/stdout").setStderrPath("1/stderr").build();
                if (shape.equals("chroot") || shape.equals("mounts")) {
                    assertThatThrownBy(() -> client.blocking().checkReadiness(ready))
                            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                                assertThat(e.getStatus().getDescription()).contains("EPERM").contains("CAP_SYS_ADMIN");
                                Figures.report("bb-runner as uid 65534 with " + shape + ": CheckReadiness " + e.getStatus().getCode()
                                        + " " + e.getStatus().getDescription());
                            });
                    return;
                }
                client.blocking().checkReadiness(ready);
                RunResponse r = client.blocking().run(run);
                assertThat(r.getExitCode()).as(() -> readOr(build.getParent().resolve("stderr"))).isZero();
                assertThat(Files.readAllLines(build.getParent().resolve("stdout"))).containsExactly("" + NOBODY, "");
                Figures.report("bb-runner as uid 65534, no_new_privs, " + shape + " configuration: CheckReadiness OK, Run exit "
                        + r.getExitCode() + ", the action's uid " + NOBODY);
            }
        } finally {
            p.destroy();
            p.waitFor();
        }
        assertThat(Files.readString(dir.resolve("log"))).doesNotContain("SO_KEEPALIVE");
    }

    /** Our class path, copied where uid 65534 may read it (the build's own copy may sit under /root). */
    private String readableClassPath() throws Exception {
        Path cp = Files.createDirectories(dir.resolve("cp"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) continue;
            Path to = cp.resolve(i++ + "-" + from.getFileName());
            if (Files.isDirectory(from)) {
                try (Stream<Path> s = Files.walk(from)) {
                    for (Path f : s.toList()) Files.copy(f, to.resolve(from.relativize(f).toString()), StandardCopyOption.REPLACE_EXISTING);
                }
            } else {
                Files.copy(from, to);
            }
            out.add(to.toString());
        }
        try (Stream<Path> s = Files.walk(cp)) {
            for (Path f : s.toList()) Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(
                    Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    private static String readOr(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
