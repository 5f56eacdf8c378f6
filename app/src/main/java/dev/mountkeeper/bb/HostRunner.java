package dev.mountkeeper.bb;

import com.google.protobuf.Any;
import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.sandbox.RunResult;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs each action as bb_runner does, without namespaces: a plain child in the host's tree, for a
 * runner that may not make namespaces (Kubernetes' uid 65534 with allowPrivilegeEscalation false)
 * and has no mounts to make. The child leads a process group of its own, so that a cancelled call
 * kills what it started as well.
 */
final class HostRunner implements Runner {
    private final BuildDirectory buildDirectory;
    private final boolean setTmpdir;

    HostRunner(BuildDirectory buildDirectory, boolean setTmpdir) {
        this.buildDirectory = buildDirectory;
        this.setTmpdir = setTmpdir;
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        if (request.getArgumentsCount() == 0) throw BuildDirectory.invalid("Insufficient number of command arguments");
        String inputRoot = BuildDirectory.relative("input root directory", request.getInputRootDirectory());
        String workingDirectory = BuildDirectory.relative("working directory", request.getWorkingDirectory());
        String tmp = request.getTemporaryDirectory().isEmpty() ? null
                : BuildDirectory.relative("temporary directory", request.getTemporaryDirectory());
        buildDirectory.directory("input root directory", inputRoot).close();
        if (tmp != null) buildDirectory.directory("temporary directory", tmp).close();
        String cwd = join(buildDirectory.path, inputRoot, workingDirectory);
        Map<String, String> env = new LinkedHashMap<>();
        if (tmp != null && setTmpdir) env.put("TMPDIR", join(buildDirectory.path, tmp, ""));
        env.putAll(request.getEnvironmentVariablesMap()); // the request's own TMPDIR wins, as bb_runner's comes after
        List<String> envp = new ArrayList<>();
        env.forEach((k, v) -> envp.add(k + "=" + v));
        String program = lookup(request.getArguments(0), request.getEnvironmentVariablesMap().get("PATH"), cwd);
        String stdoutPath = BuildDirectory.relative("stdout path", request.getStdoutPath());
        String stderrPath = BuildDirectory.relative("stderr path", request.getStderrPath());
        try (Fd stdout = buildDirectory.createOutput("stdout path", stdoutPath);
             Fd stderr = buildDirectory.createOutput("stderr path", stderrPath);
             Fd stdin = FileSyscalls.openat(FileSyscalls.AT_FDCWD, "/dev/null", FileSyscalls.O_RDONLY, 0)) {
            int pid = new Spawn(program, request.getArgumentsList(), envp, cwd, Map.of(0, stdin, 1, stdout, 2, stderr))
                    .startInOwnGroup();
            return await(pid, Context.current());
        } catch (ErrnoException e) {
            Status s = e.is(dev.mountkeeper.linux.Errno.ENOENT) || e.is(dev.mountkeeper.linux.Errno.EACCES)
                    || e.is(dev.mountkeeper.linux.Errno.EISDIR) || e.is(dev.mountkeeper.linux.Errno.ENOEXEC)
                    ? Status.INVALID_ARGUMENT : Status.INTERNAL;
            throw s.withDescription("Failed to start process: " + e.getMessage()).asException();
        }
    }

    private static RunResponse await(int pid, Context context) throws ErrnoException, StatusException {
        Object lock = new Object();
        boolean[] reaped = {false};
        Context.CancellationListener cancel = c -> {
            synchronized (lock) {
                if (reaped[0]) return;
                try {
                    ProcessSyscalls.kill(-pid, ProcessSyscalls.SIGKILL);
                } catch (ErrnoException ignored) {
                    // the group is already gone
                }
            }
        };
        context.addListener(cancel, Runnable::run);
        ProcessSyscalls.Exit exit;
        try {
            exit = ProcessSyscalls.wait4(pid);
        } finally {
            synchronized (lock) {
                reaped[0] = true;
            }
            context.removeListener(cancel);
        }
        if (context.isCancelled()) {
            Status s = Status.fromThrowable(context.cancellationCause());
            if (s.getCode() == Status.Code.UNKNOWN) s = Status.CANCELLED;
            throw s.withDescription("The action was killed: " + (s.getCode() == Status.Code.DEADLINE_EXCEEDED
                    ? "its deadline passed" : "the call was cancelled")).asException();
        }
        RunResult r = new RunResult(exit.exitCode(), exit.signal(), false, false, exit.usage(), Duration.ZERO);
        return RunResponse.newBuilder().setExitCode(exit.signaled() ? -1 : exit.exitCode())
                .addResourceUsage(Any.pack(LocalRunner.usage(r))).build();
    }

    /**
     * As bb_runner's lookupExecutable: a name with a slash as given (relative to the working
     * directory); else the first executable entry of the request's PATH, in that entry's spelling.
     */
    private static String lookup(String name, String path, String cwd) throws StatusException {
        if (name.contains("/")) return name.startsWith("/") ? name : cwd + "/" + name;
        if (path != null) {
            for (String dir : path.split(":", -1)) {
                String candidate = (dir.isEmpty() ? "." : dir) + "/" + name;
                String onHost = candidate.startsWith("/") ? candidate : cwd + "/" + candidate;
                java.io.File f = new java.io.File(onHost);
                if (f.isFile() && f.canExecute()) return onHost;
            }
        }
        throw BuildDirectory.invalid("Failed to start process: exec: " + Quote.string(name)
                + ": executable file not found in $PATH");
    }

    private static String join(String base, String a, String b) {
        String s = base;
        if (!a.isEmpty()) s += "/" + a;
        if (!b.isEmpty()) s += "/" + b;
        return s;
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        LocalRunner.checkPath(buildDirectory, request);
    }
}
