package dev.mountkeeper.bb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.bb.proto.resourceusage.POSIXResourceUsage;
import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Sandboxes;
import dev.mountkeeper.testing.Tools;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner, driven over its UNIX socket as bb_worker drives it, with actions that mount for real. */
@Privileged
class BbRunnerTest {
    static final String TOOLS = "\"ro-bind:/usr:/usr\", \"ro-bind:/etc:/etc\", \"symlink:usr/lib:/lib\","
            + " \"symlink:usr/lib64:/lib64\", \"symlink:usr/bin:/bin\", \"dev::/dev\"";
    static final String PROC_AND_SYS = "\"inputRootMounts\": [{\"mountpoint\": \"proc\", \"source\": \"/proc\","
            + " \"filesystemType\": \"proc\"}, {\"mountpoint\": \"sys\", \"source\": \"/sys\", \"filesystemType\": \"sysfs\"}]";

    @TempDir Path dir;
    BuildFarm farm;

    @BeforeEach
    void start() throws Exception {
        farm = new BuildFarm(dir, "\"chrootIntoInputRoot\": true, \"createMountpoints\": true, "
                + "\"setTmpdirEnvironmentVariable\": true, " + PROC_AND_SYS + ", \"inputRootMountSpecs\": [" + TOOLS + "]");
    }

    @AfterEach
    void stop() throws Exception {
        farm.close();
        assertThat(MountTable.below(MountTable.of(KernelFeatures.current()).read(), dir.toString()))
                .as("mounts under the build directory after the runner stopped").isEmpty();
    }

    private RunResponse run(RunRequest.Builder r) {
        return farm.client.blocking().run(r.build());
    }

    private static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void actionsGetAFreshProcAndReadOnlySysfsWithSafeFlagsInTheirOwnPidNamespace() throws Exception {
        String a = farm.newAction();
        RunResponse r = run(farm.request(a, "sh", "-c",
                "readlink /proc/$$/exe; echo $$; grep -E ' /(proc|sys) ' /proc/self/mountinfo; echo TMPDIR=$TMPDIR"));
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        String out = farm.stdout(a);
        assertThat(out).startsWith("/usr/bin/dash\n").contains("TMPDIR=/tmp");
        assertThat(out.lines().skip(1).findFirst().orElseThrow()).as("pid of the shell").matches("[2-9]");
        assertThat(out.lines().filter(l -> l.contains(" /proc ")).findFirst().orElseThrow()).contains("nosuid", "nodev", "noexec");
        assertThat(out.lines().filter(l -> l.contains(" /sys ")).findFirst().orElseThrow()).contains(" ro,", "nosuid");
        POSIXResourceUsage u = r.getResourceUsage(0).unpack(POSIXResourceUsage.class);
        assertThat(r.getResourceUsage(0).getTypeUrl()).isEqualTo("type.googleapis.com/buildbarn.resourceusage.POSIXResourceUsage");
        assertThat(u.getTerminationSignal()).isEmpty();
        assertThat(u.getMaximumResidentSetSize()).isPositive();
        // The mountpoints were created inside the input root, and nothing is mounted there on the host.
        assertThat(farm.buildDirectory.resolve(a + "/root/proc")).isDirectory().isEmptyDirectory();
    }

    @Test
    void stdoutStderrExitCodesAndSignals() throws Exception {
        String a = farm.newAction();
        RunResponse r = run(farm.request(a, "sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.getExitCode()).isEqualTo(3);
        assertThat(farm.stdout(a)).isEqualTo("out\n");
        assertThat(farm.stderr(a)).isEqualTo("err\n");

        String b = farm.newAction();
        RunResponse killed = run(farm.request(b, "sh", "-c", "kill -KILL $$"));
        assertThat(killed.getExitCode()).isEqualTo(-1);
        assertThat(killed.getResourceUsage(0).unpack(POSIXResourceUsage.class).getTerminationSignal()).isEqualTo("KILL");

        String c = farm.newAction();
        RunResponse env = run(farm.request(c, "env").clearEnvironmentVariables().putEnvironmentVariables("ONLY", "this"));
        assertThat(farm.stdout(c).lines().sorted()).containsExactly("ONLY=this", "TMPDIR=/tmp"); // set_tmpdir_environment_variable
        assertThat(env.getExitCode()).isZero();

        // As in bb_runner, whose environment lists TMPDIR first and the request's variables after it.
        String d = farm.newAction();
        run(farm.request(d, "sh", "-c", "echo $TMPDIR").putEnvironmentVariables("TMPDIR", "/the/requests/own"));
        assertThat(farm.stdout(d)).isEqualTo("/the/requests/own\n");
    }

    /** As bb_runner's path existence checking runner: readiness, and a failure while a required path vanished. */
    @Test
    void aRequiredPathThatVanishesMakesAFailedActionUnavailable() throws Exception {
        Path required = Files.writeString(dir.resolve("required"), "share mounted\n");
        try (BuildFarm plain = new BuildFarm(Files.createDirectories(dir.resolve("plain")),
                "\"readinessCheckingPathnames\": [\"" + required + "\"]")) {
            plain.client.blocking().checkReadiness(CheckReadinessRequest.getDefaultInstance());
            String a = plain.newAction();
            RunResponse ok = plain.client.blocking().run(plain.request(a, "sh", "-c", "exit 3").build());
            assertThat(ok.getExitCode()).isEqualTo(3); // failed, but the path is there: the action's own result
            String b = plain.newAction();
            StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> plain.client.blocking().run(plain.request(b, "sh", "-c", "rm " + required + "; exit 1").build()));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).isEqualTo("One or more required files disappeared during execution: Path \""
                    + required + "\": no such file or directory");
            assertThat(code(() -> plain.client.blocking().checkReadiness(CheckReadinessRequest.getDefaultInstance())))
                    .isEqualTo(Status.Code.UNAVAILABLE);
            String c = plain.newAction();
            assertThat(plain.client.blocking().run(plain.request(c, "true").build()).getExitCode()).isZero(); // success stands
        }
    }

    /** A worker may mount a new build directory over the old one after the runner started (FUSE, on each restart). */
    @Test
    void aBuildDirectoryMountedOverAfterTheStartIsTheOneUsed() throws Exception {
        dev.mountkeeper.linux.MountSyscalls.mount("tmpfs", farm.buildDirectory.toString(), "tmpfs", 0, "size=16m");
        try {
            Files.createDirectories(farm.buildDirectory.resolve("0/check_readiness"));
            farm.client.blocking().checkReadiness(CheckReadinessRequest.newBuilder().setPath("0/check_readiness").build());
            String a = farm.newAction();
            RunResponse r = run(farm.request(a, "sh", "-c", "echo on the new one"));
            assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
            assertThat(farm.stdout(a)).isEqualTo("on the new one\n");
        } finally {
            dev.mountkeeper.linux.MountSyscalls.umount2(farm.buildDirectory.toString(), 0);
        }
    }

    @Test
    void aDeadlineKillsTheWholeTreeAndLeavesNoMount() throws Exception {
        String a = farm.newAction();
        String marker = "bb-deadline-" + System.nanoTime();
        long start = System.nanoTime();
        assertThat(code(() -> farm.client.blocking().withDeadlineAfter(1, TimeUnit.SECONDS)
                .run(farm.request(a, "sh", "-c", daemonAndWait(marker)).build())))
                .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        awaitNoProcess(marker);
        Figures.report("bb-runner deadline: 1 s deadline, tree gone after "
                + (System.nanoTime() - start) / 1_000_000 + " ms, 0 processes and 0 mounts left");
    }

    @Test
    void cancellationKillsTheWholeTree() throws Exception {
        String a = farm.newAction();
        String marker = "bb-cancel-" + System.nanoTime();
        Context.CancellableContext ctx = Context.current().withCancellation();
        Future<RunResponse> call = ctx.call(() -> farm.client.future().run(farm.request(a, "sh", "-c",
                "echo started; " + daemonAndWait(marker)).build()));
        assertThat(Sandboxes.awaitProcessesWith(marker, 2)).hasSize(2);
        ctx.cancel(null);
        assertThatThrownBy(call::get).hasCauseInstanceOf(StatusRuntimeException.class);
        awaitNoProcess(marker);
    }

    /**
     * A daemon left behind and a wait: once settled, exactly two shells whose command line carries
     * the marker, because the action's own shell execs the second.
     */
    static String daemonAndWait(String marker) {
        return "(sh -c 'sleep 100; : " + marker + "' &); exec sh -c 'sleep 100; : " + marker + "'";
    }

    private static void awaitNoProcess(String marker) throws InterruptedException {
        for (int i = 0; i < 500 && !Sandboxes.processesWith(marker).isEmpty(); i++) Thread.sleep(10);
        assertThat(Sandboxes.processesWith(marker)).as("processes of the action").isEmpty();
    }

    @Test
    void eightConcurrentActions() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<String> actions = new ArrayList<>();
            List<Future<RunResponse>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String a = farm.newAction();
                actions.add(a);
                int n = i;
                calls.add(pool.submit(() -> run(farm.request(a, "sh", "-c", "sleep 0.2; echo " + n + "; set -- /proc/[0-9]*; echo $#"))));
            }
            for (int i = 0; i < 8; i++) {
                assertThat(calls.get(i).get().getExitCode()).isZero();
                // Each action sees its own processes only: PID 1 and the shell (the glob forks nothing).
                assertThat(farm.stdout(actions.get(i))).isEqualTo(i + "\n2\n");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badRequestsGetTheirCodesAndChangeNothing() throws Exception {
        String a = farm.newAction();
        Files.createSymbolicLink(farm.buildDirectory.resolve("escape"), Path.of("/"));
        Files.writeString(farm.buildDirectory.resolve(a + "/stdout"), "there already");
        var blocking = farm.client.blocking();
        String b = farm.newAction();
        assertThat(code(() -> blocking.run(farm.request(b).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(() -> blocking.run(farm.request(b, "true").setInputRootDirectory("../" + b + "/root").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(() -> blocking.run(farm.request(b, "true").setInputRootDirectory("/etc").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(() -> blocking.run(farm.request(b, "true").setInputRootDirectory("escape/tmp").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(() -> blocking.run(farm.request(b, "true").setStdoutPath("escape/tmp/owned").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(() -> blocking.run(farm.request(b, "true").setInputRootDirectory(b + "/missing").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(Path.of("/tmp/owned")).doesNotExist();
        String d = farm.newAction();
        assertThat(code(() -> blocking.run(farm.request(d, "true").setWorkingDirectory("no/such/dir").build())))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    /**
     * bb_runner (local_runner.go, lookupExecutable) executes argv[0] with a slash as given, in the
     * working directory, and one without by the PATH entry's own spelling; in the chroot its
     * /usr/bin/env does the same. A "#!" script's $0 is that path, never the build directory's.
     */
    @Test
    void argv0IsTheRequestsAndAScriptSeesTheRelativePath() throws Exception {
        for (boolean chroot : new boolean[] {true, false}) {
            if (!chroot) {
                farm.close();
                farm = new BuildFarm(dir.resolve("plain-argv0"), "");
            }
            String a = farm.newAction();
            Path tools = Files.createDirectories(farm.buildDirectory.resolve(a + "/root/work/tools"));
            for (Path script : List.of(tools.resolve("../tool.sh"), tools.resolve("tool.sh"))) {
                Files.writeString(script, "#!/bin/sh\necho \"$0\"\n");
                script.toFile().setExecutable(true);
            }
            List<String> seen = new ArrayList<>();
            for (String[] argvAndPath : new String[][] {{"./tool.sh", "/usr/bin:/bin"}, {"tools/tool.sh", "/usr/bin:/bin"},
                    {"tool.sh", "tools:/usr/bin:/bin"}}) {
                String n = farm.newAction();
                RunResponse r = run(farm.request(n, argvAndPath[0]).setInputRootDirectory(a + "/root").setWorkingDirectory("work")
                        .putEnvironmentVariables("PATH", argvAndPath[1]));
                assertThat(r.getExitCode()).as(farm.stderr(n)).isZero();
                seen.add(farm.stdout(n));
            }
            assertThat(seen).as("chroot " + chroot).containsExactly("./tool.sh\n", "tools/tool.sh\n", "tools/tool.sh\n");
            // A compiled program gets argv[0] as given, too.
            String c = farm.newAction();
            run(farm.request(c, "sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline").setInputRootDirectory(a + "/root"));
            assertThat(farm.stdout(c)).as("chroot " + chroot).isEqualTo("sh -c tr '\\0' ' ' < /proc/$$/cmdline ");
        }
        // Without the chroot bb_runner searches the request's PATH only: unset, nothing is found.
        String u = farm.newAction();
        assertThat(code(() -> run(farm.request(u, "true").removeEnvironmentVariables("PATH"))))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    /**
     * bb_runner's chrooted command creator (local_runner_unix.go) runs /usr/bin/env -- ARGS in the
     * input root: a command env cannot find or run is env's exit status and message, an action
     * result. An existing output file is the bare EEXIST of openLog: UNKNOWN.
     */
    @Test
    void inTheChrootAMissingCommandIsEnvs127AndAnExistingOutputIsUnknown() throws Exception {
        String a = farm.newAction();
        RunResponse r = run(farm.request(a, "no-such-command", "x"));
        assertThat(r.getExitCode()).isEqualTo(127);
        assertThat(farm.stderr(a)).startsWith("/usr/bin/env: ").contains("no-such-command").contains("No such file or directory");
        String b = farm.newAction();
        Files.writeString(farm.buildDirectory.resolve(b + "/root/plain"), "not a program\n");
        RunResponse denied = run(farm.request(b, "/plain"));
        assertThat(denied.getExitCode()).isEqualTo(126);
        assertThat(farm.stderr(b)).startsWith("/usr/bin/env: ").contains("Permission denied");
        // No /usr/bin/env in the input root: bb_runner's start fails with ENOENT, INVALID_ARGUMENT.
        try (BuildFarm bare = new BuildFarm(Files.createDirectories(dir.resolve("bare")), "\"chrootIntoInputRoot\": true")) {
            String c = bare.newAction();
            assertThat(code(() -> bare.client.blocking().run(bare.request(c, "true").build())))
                    .isEqualTo(Status.Code.INVALID_ARGUMENT);
        }
        String d = farm.newAction();
        Files.writeString(farm.buildDirectory.resolve(d + "/stdout"), "there already");
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> run(farm.request(d, "true")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
        assertThat(e.getStatus().getDescription()).startsWith("Failed to open stdout path \"" + d + "/stdout\": ");
        assertThat(farm.stdout(d)).isEqualTo("there already");
    }

    /** Without the chroot the action's /proc is its own pid namespace's: $$ is 2, and /proc/2 is it. */
    @Test
    void withoutChrootProcIsTheActionsOwn() throws Exception {
        farm.close();
        farm = new BuildFarm(dir.resolve("plain-proc"), "");
        String a = farm.newAction();
        RunResponse r = run(farm.request(a, "sh", "-c", "echo $$; readlink /proc/self; cat /proc/$$/comm; set -- /proc/[0-9]*; echo $#"));
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        assertThat(farm.stdout(a)).isEqualTo("2\n3\nsh\n2\n");
    }

    @Test
    void readinessAndHealth() throws Exception {
        Files.createDirectories(farm.buildDirectory.resolve("0/check_readiness"));
        farm.client.blocking().checkReadiness(CheckReadinessRequest.newBuilder().setPath("0/check_readiness").build());
        // bb_runner's checkReadiness wraps every failure, missing or leading out, as INTERNAL.
        StatusRuntimeException missing = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> farm.client.blocking().checkReadiness(CheckReadinessRequest.newBuilder().setPath("nope").build()));
        assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(missing.getStatus().getDescription()).isEqualTo("Failed to check existence of path \"nope\" in build"
                + " directory: no such file or directory");
        assertThat(code(() -> farm.client.blocking().checkReadiness(CheckReadinessRequest.newBuilder().setPath("../x").build())))
                .isEqualTo(Status.Code.INTERNAL);
        HealthCheckResponse h = HealthGrpc.newBlockingStub(farm.client.channel).check(HealthCheckRequest.getDefaultInstance());
        assertThat(h.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void rustcAndJavacWorkInAChrootedInputRootOnlyWithProc() throws Exception {
        String sysroot = Tools.output("rustc", "--print", "sysroot");
        if (sysroot == null) sysroot = Tools.output(System.getProperty("user.home") + "/.cargo/bin/rustc", "--print", "sysroot");
        if (sysroot == null) Tools.missing("rustc", "no rustup toolchain found through rustc --print sysroot");
        String specs = "\"inputRootMountSpecs\": [" + TOOLS + ", \"ro-bind:" + sysroot + ":/opt/rust\"]";
        String bin = Path.of(System.getProperty("java.home"), "bin").toString();
        String rust = "printf 'fn main() { println!(\"hello from rust\"); }' > hello.rs && /opt/rust/bin/rustc hello.rs -o hello && ./hello";
        String java = "printf 'class Hello { public static void main(String[] a) { System.out.println(\"hello from java\"); } }'"
                + " > Hello.java && " + bin + "/javac Hello.java && " + bin + "/java -cp . Hello";
        farm.close();
        farm = new BuildFarm(dir.resolve("with"), "\"chrootIntoInputRoot\": true, \"createMountpoints\": true, "
                + PROC_AND_SYS + ", " + specs);
        int[] with = {compile(rust, "hello from rust\n"), compile(java, "hello from java\n")};
        farm.close();
        farm = new BuildFarm(dir.resolve("without"), "\"chrootIntoInputRoot\": true, \"createMountpoints\": true, " + specs);
        int[] without = {compile(rust, null), compile(java, null)};
        Figures.report("bb-runner acceptance: rustc exit " + with[0] + " with /proc, " + without[0] + " without;"
                + " javac exit " + with[1] + " with /proc, " + without[1] + " without");
        assertThat(with).containsOnly(0);
        assertThat(without).doesNotContain(0);
    }

    private int compile(String script, String expected) throws Exception {
        String a = farm.newAction();
        RunResponse r = run(farm.request(a, "sh", "-c", script).putEnvironmentVariables("HOME", "/tmp"));
        if (expected != null) {
            assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
            assertThat(farm.stdout(a)).isEqualTo(expected);
        }
        return (int) r.getExitCode();
    }

    @Test
    void withoutChrootTheActionRunsInItsDirectoryOnTheHostRootWithItsMounts() throws Exception {
        farm.close();
        farm = new BuildFarm(dir.resolve("nochroot"), "\"createMountpoints\": true, " + PROC_AND_SYS);
        String a = farm.newAction();
        Files.createDirectories(farm.buildDirectory.resolve(a + "/root/work"));
        RunResponse r = run(farm.request(a, "sh", "-c", "pwd; set -- ../proc/[0-9]*; echo $#").setWorkingDirectory("work"));
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        // The input root's own /proc shows the action's processes only: PID 1 and the shell.
        assertThat(farm.stdout(a)).isEqualTo(farm.buildDirectory.resolve(a + "/root/work") + "\n2\n");
    }

    @Test
    void aProviderSpecInTheConfigurationGivesEachActionItsOwnOverlay() throws Exception {
        Path tools = Files.createDirectories(dir.resolve("tools"));
        Files.writeString(tools.resolve("version"), "1\n");
        farm.close();
        farm = new BuildFarm(dir.resolve("overlay"), "\"chrootIntoInputRoot\": true, \"createMountpoints\": true, "
                + PROC_AND_SYS + ", \"inputRootMountSpecs\": [\"ro-bind:/usr:/usr\", \"symlink:usr/bin:/bin\","
                + " \"symlink:usr/lib:/lib\", \"symlink:usr/lib64:/lib64\", \"overlay:" + tools + ":/opt/tools\"]");
        for (int i = 0; i < 2; i++) {
            String a = farm.newAction();
            RunResponse r = run(farm.request(a, "sh", "-c", "cat /opt/tools/version; echo changed > /opt/tools/version"));
            assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
            assertThat(farm.stdout(a)).as("each action starts from the lower").isEqualTo("1\n");
        }
        assertThat(Files.readString(tools.resolve("version"))).isEqualTo("1\n");
    }

    @Test
    void missingMountpointsAreMadeForTheActionAndGoneAfterEvenWhenItCannotStart() throws Exception {
        farm.close();
        farm = new BuildFarm(dir.resolve("nocreate"), "\"chrootIntoInputRoot\": true, " + PROC_AND_SYS);
        String a = farm.newAction();
        StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
                () -> run(farm.request(a, "/bin/true")));
        // The mounts are made (proc/ and sys/ for them only); the input root has no /usr/bin/env to start.
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("/usr/bin/env");
        assertThat(farm.buildDirectory.resolve(a + "/root")).isEmptyDirectory();
    }

    @Test
    void aDenyPolicyAnswersUnauthenticatedWithItsMessage() throws Exception {
        Path build = Files.createDirectories(dir.resolve("deny/build"));
        Path socket = dir.resolve("deny/runner");
        try (RunnerServer denied = RunnerServer.start(RunnerConfig.parse("deny", "{\"buildDirectoryPath\": \"" + build
                + "\", \"grpcServers\": [{\"listenPaths\": [\"" + socket + "\"], \"authenticationPolicy\": {\"any\":"
                + " {\"policies\": [{\"deny\": \"workers only\"}]}}}]}"), KernelFeatures.current());
             RunnerClient client = new RunnerClient(socket)) {
            StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
                    () -> client.blocking().checkReadiness(CheckReadinessRequest.newBuilder().setPath("").build()));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).isEqualTo("workers only");
        }
    }

    @Test
    void servesOverTcpToo() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path build = Files.createDirectories(dir.resolve("tcp"));
        try (RunnerServer tcp = RunnerServer.start(RunnerConfig.parse("tcp", "{\"buildDirectoryPath\": \"" + build
                + "\", \"grpcServers\": [{\"listenAddresses\": [\"127.0.0.1:" + port + "\"], \"authenticationPolicy\":"
                + " {\"allow\": {}}}]}"), KernelFeatures.current())) {
            var channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                Files.createDirectories(build.resolve("x"));
                dev.mountkeeper.bb.proto.runner.RunnerGrpc.newBlockingStub(channel)
                        .checkReadiness(CheckReadinessRequest.newBuilder().setPath("x").build());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
