package dev.mountkeeper.bb;

import com.google.protobuf.Any;
import dev.mountkeeper.bb.proto.resourceusage.POSIXResourceUsage;
import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.ResourceUsage;
import dev.mountkeeper.linux.Signals;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountOptions;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.Propagation;
import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxException;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.sandbox.Stdio;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Runs each action in a mountkeeper sandbox: its own mount and pid namespaces, rooted at the input
 * root (chroot_into_input_root) or at the host's root, with the configured mounts. Mounts exist
 * only in the action's namespace; the whole process tree dies before Run returns.
 */
final class LocalRunner implements Runner {
    /**
     * @param chroot          pivot into the input root, as chroot_into_input_root asks
     * @param mounts          mounts inside the input root, destinations relative to it
     * @param setTmpdir       set TMPDIR to the action's temporary directory
     * @param tmpdirMounts    paths where the action sees its temporary directory (symlink_temporary_directories)
     * @param keepCapabilities let actions keep the runner's capabilities
     */
    record Options(boolean chroot, List<MountSpec> mounts, boolean setTmpdir, List<String> tmpdirMounts,
                   boolean keepCapabilities, boolean createMountpoints) {}

    /** Counts the mounts actions get and lose, for metrics. */
    interface MountListener {
        MountListener NONE = (made, removed) -> {};

        void mounts(int made, int removed);
    }

    private static final Executor DIRECT = Runnable::run;

    private final BuildDirectory buildDirectory;
    private final Options options;
    private final SandboxRunner sandboxes;
    private final MountListener listener;
    private final ActionCommand command;

    LocalRunner(BuildDirectory buildDirectory, Options options, ActionCommand command, KernelFeatures features,
                MountListener listener) {
        this.buildDirectory = buildDirectory;
        this.options = options;
        this.command = command;
        this.sandboxes = new SandboxRunner(features, options.createMountpoints());
        this.listener = listener;
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        if (request.getArgumentsCount() == 0) throw BuildDirectory.invalid("Insufficient number of command arguments");
        String inputRoot = BuildDirectory.relative("input root directory", request.getInputRootDirectory());
        String workingDirectory = BuildDirectory.relative("working directory", request.getWorkingDirectory());
        String tmp = request.getTemporaryDirectory().isEmpty() ? null
                : BuildDirectory.relative("temporary directory", request.getTemporaryDirectory());
        if (options.chroot() && inputRoot.isEmpty()) {
            throw BuildDirectory.invalid("the input root directory is the build directory itself");
        }
        if (tmp != null) buildDirectory.directory("temporary directory", tmp).close();
        String stdoutPath = BuildDirectory.relative("stdout path", request.getStdoutPath());
        String stderrPath = BuildDirectory.relative("stderr path", request.getStderrPath());
        try (Fd root = buildDirectory.directory("input root directory", inputRoot);
             Fd stdout = buildDirectory.createOutput("stdout path", stdoutPath);
             Fd stderr = buildDirectory.createOutput("stderr path", stderrPath);
             Mountpoints made = mountpoints(root, tmp)) {
            Sandbox sandbox = sandbox(request, inputRoot, workingDirectory, tmp, stdout, stderr);
            return execute(sandbox);
        }
    }

    /** What the mounts lack in the input root, made for this action only (unless create_mountpoints keeps them). */
    private Mountpoints mountpoints(Fd root, String tmp) throws StatusException {
        try {
            if (options.createMountpoints()) return Mountpoints.make(root, List.of(), List.of());
            return Mountpoints.make(root, options.mounts(), tmp != null && options.chroot() ? chrootTmpdirs() : List.of());
        } catch (dev.mountkeeper.linux.ErrnoException e) {
            throw Status.INTERNAL.withDescription("Failed to make a mountpoint in the input root: " + e.getMessage())
                    .asException();
        }
    }

    /** Where a chrooted action sees its temporary directory: symlink_temporary_directories, and /tmp for TMPDIR. */
    private List<String> chrootTmpdirs() {
        List<String> tmpdirs = options.tmpdirMounts();
        if (options.setTmpdir() && !tmpdirs.contains("/tmp")) {
            tmpdirs = java.util.stream.Stream.concat(tmpdirs.stream(), java.util.stream.Stream.of("/tmp")).toList();
        }
        return tmpdirs;
    }

    private Sandbox sandbox(RunRequest request, String inputRoot, String workingDirectory, String tmp, Fd stdout,
                            Fd stderr) throws StatusException {
        // Inside the sandbox the input root is "/" when we pivot into it, else its host path.
        String rootInside = options.chroot() ? "" : buildDirectory.path + (inputRoot.isEmpty() ? "" : "/" + inputRoot);
        String tmpHost = tmp == null ? null : buildDirectory.path + "/" + tmp;
        Sandbox.Builder b = Sandbox.builder();
        if (options.chroot()) b.root(buildDirectory.path, inputRoot);
        else {
            // The host's root, but the action is PID 2 of a pid namespace of its own (so that its
            // whole tree dies with it): the host's /proc would show other processes under its pid
            // (/proc/2 is kthreadd) and /proc/self would not be it. In its mount namespace only,
            // the host's procfs goes and a procfs of its own namespace takes its place.
            b.root("/").unmount("/proc").proc("/proc");
        }
        try {
            for (MountSpec m : options.mounts()) b.mount(Specs.under(rootInside, m));
            List<String> tmpdirs = options.chroot() ? chrootTmpdirs() : options.tmpdirMounts();
            if (tmp != null) {
                MountOptions bind = new MountOptions(false, false, true, false, Propagation.PRIVATE, true, false, null, null);
                for (String at : tmpdirs) b.mount(new MountSpec.Bind(MountSpec.BindType.BIND, tmpHost, at, bind));
            }
            java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
            if (tmp != null && options.setTmpdir()) env.put("TMPDIR", options.chroot() ? "/tmp" : tmpHost);
            env.putAll(request.getEnvironmentVariablesMap()); // the request's own TMPDIR wins, as bb_runner's comes after
            b.env(env);
            b.chdir(rootInside + "/" + workingDirectory);
            command.apply(b, request.getArgumentsList());
            b.stdio(new Stdio(Stdio.Redirect.NULL, new Stdio.Redirect.Opened(stdout), new Stdio.Redirect.Opened(stderr)));
            b.keepCapabilities(options.keepCapabilities());
            return b.build();
        } catch (IllegalArgumentException e) {
            throw BuildDirectory.invalid(e.getMessage());
        }
    }

    private RunResponse execute(Sandbox sandbox) throws StatusException {
        Context context = Context.current();
        long mounts = sandbox.ops().stream().filter(op -> op instanceof dev.mountkeeper.sandbox.Op.Mount).count();
        SandboxRunner.Execution execution;
        RunResult result;
        try {
            execution = sandboxes.start(sandbox);
            Context.CancellationListener cancel = c -> execution.cancel();
            context.addListener(cancel, DIRECT);
            try {
                result = execution.waitFor();
            } finally {
                context.removeListener(cancel);
            }
        } catch (SandboxException e) {
            throw (e.status() == 1 ? Status.INTERNAL : Status.INVALID_ARGUMENT).withDescription(e.getMessage())
                    .withCause(e).asException();
        } catch (MountException e) {
            throw (e.reason() == MountException.Reason.INVALID_INPUT ? Status.INVALID_ARGUMENT : Status.INTERNAL)
                    .withDescription(e.getMessage()).withCause(e).asException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription(e.getMessage()).withCause(e).asException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("Interrupted while waiting for the action").asException();
        }
        listener.mounts((int) mounts, (int) mounts); // the namespace, and every mount in it, is gone by now
        if (context.isCancelled()) {
            Status s = Status.fromThrowable(context.cancellationCause());
            if (s.getCode() == Status.Code.UNKNOWN) s = Status.CANCELLED;
            throw s.withDescription("The action was killed: " + (s.getCode() == Status.Code.DEADLINE_EXCEEDED
                    ? "its deadline passed" : "the call was cancelled")).asException();
        }
        return RunResponse.newBuilder()
                .setExitCode(result.signal() != 0 ? -1 : result.exitCode())
                .addResourceUsage(Any.pack(usage(result)))
                .build();
    }

    static POSIXResourceUsage usage(RunResult r) {
        ResourceUsage u = r.usage();
        return POSIXResourceUsage.newBuilder()
                .setUserTime(duration(u.userTime()))
                .setSystemTime(duration(u.systemTime()))
                .setMaximumResidentSetSize(u.maxRssKiB() * 1024)
                .setPageReclaims(u.minorFaults())
                .setPageFaults(u.majorFaults())
                .setSwaps(u.swaps())
                .setBlockInputOperations(u.blocksIn())
                .setBlockOutputOperations(u.blocksOut())
                .setMessagesSent(u.messagesSent())
                .setMessagesReceived(u.messagesReceived())
                .setSignalsReceived(u.signals())
                .setVoluntaryContextSwitches(u.voluntarySwitches())
                .setInvoluntaryContextSwitches(u.involuntarySwitches())
                .setTerminationSignal(r.signal() == 0 ? "" : Signals.name(r.signal()))
                .build();
    }

    private static com.google.protobuf.Duration duration(Duration d) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }

    /**
     * As bb_runner's: every failure, a missing path as well as one that leads out of the build
     * directory, is INTERNAL ("Failed to check existence of path"), which bb_worker takes as the
     * runner not being ready.
     */
    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        checkPath(buildDirectory, request);
    }

    static void checkPath(BuildDirectory buildDirectory, CheckReadinessRequest request) throws StatusException {
        String failed = "Failed to check existence of path " + Quote.string(request.getPath()) + " in build directory: ";
        try {
            String path = BuildDirectory.relative("path", request.getPath());
            if (!buildDirectory.exists("path", path)) {
                throw Status.INTERNAL.withDescription(failed + "no such file or directory").asException();
            }
        } catch (StatusException e) {
            if (e.getStatus().getCode() == Status.Code.INTERNAL) throw e;
            throw Status.INTERNAL.withDescription(failed + e.getStatus().getDescription()).asException();
        }
    }
}
