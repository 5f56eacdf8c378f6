package dev.mountkeeper.plugins;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProvider;
import dev.mountkeeper.plugins.proto.PluginReply;
import dev.mountkeeper.plugins.proto.PluginRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A provider that is a program: it gets a {@code PluginRequest} as JSON on standard input and
 * answers a {@code PluginReply} on standard output (src/main/proto/mountkeeper/plugin.proto).
 * Started with posix_spawn from the calling thread, so it runs in that thread's mount namespace
 * (a sandbox's own, before its root exists) without the JVM starting threads there; it leads a
 * process group of its own, killed whole when it takes longer than the request's timeout.
 * Outside a sandbox (the daemon) a group is not enough, since setsid leaves it: there the plugin
 * is PID 1 of a pid namespace of its own, started from a fresh thread that unshared one (a
 * thread cannot go back, hence a new one per run), so when it ends or is killed, the kernel
 * kills everything it started. A sandbox's pid namespace already does that for its plugins.
 */
record ExecutableProvider(String name, Path program) implements MountProvider {
    @Override
    public Kind mount(Request r) throws IOException {
        if (!startsInOwnPidNamespace()) return run(r, false);
        var result = new java.util.concurrent.CompletableFuture<Kind>();
        Thread t = Thread.ofPlatform().name("plugin-" + name).start(() -> {
            try {
                NamespaceSyscalls.unshare(NamespaceSyscalls.CLONE_NEWPID);
                result.complete(run(r, true));
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            t.join();
            return result.resultNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Reason.SYSTEM, "Interrupted while " + Quote.string(program.toString()) + " ran");
        } catch (IllegalStateException failed) {
            Throwable cause = result.exceptionNow();
            if (cause instanceof IOException io) throw io;
            throw (RuntimeException) cause;
        }
    }

    /** Whether this thread's children start in its own pid namespace (false in a sandbox, whose children are PID 1's). */
    private static boolean startsInOwnPidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/pid"))
                    .equals(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/pid_for_children")));
        } catch (IOException e) {
            return false;
        }
    }

    /** @param pid1 whether the plugin is PID 1 of its own pid namespace: killing it kills all it started */
    private Kind run(Request r, boolean pid1) throws IOException {
        byte[] request = JsonFormat.printer().preservingProtoFieldNames().includingDefaultValueFields().print(PluginRequest.newBuilder().setVersion(1)
                .setProvider(name).setSource(r.source()).setDest(r.dest()).addAllOptions(r.options())
                .setStaging(r.staging())).getBytes(StandardCharsets.UTF_8);
        List<String> env = System.getenv().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int pid;
        try (ProcessSyscalls.Pipe in = ProcessSyscalls.pipe(); ProcessSyscalls.Pipe o = ProcessSyscalls.pipe();
             ProcessSyscalls.Pipe e = ProcessSyscalls.pipe()) {
            Map<Integer, Fd> fds = new HashMap<>(Map.of(0, in.read(), 1, o.write(), 2, e.write()));
            for (int n : passedDescriptors(r.source())) fds.put(n, Fd.adopt(n)); // borrowed: never closed here
            pid = new Spawn(program.toString(), List.of(program.toString()), env, null, fds).startInOwnGroup();
            in.read().close();
            o.write().close();
            e.write().close();
            try (Fd pidfd = ProcessSyscalls.pidfdOpen(pid)) {
                try {
                    ProcessSyscalls.writeAll(in.write(), request);
                } catch (ErrnoException notReading) {
                    // a plugin that does not read its request is still judged by its exit and its mount
                }
                in.write().close();
                if (!collect(pidfd, o.read(), e.read(), out, err, r.timeout())) {
                    if (pid1) ProcessSyscalls.kill(pid, ProcessSyscalls.SIGKILL);
                    killGroup(pid);
                    ProcessSyscalls.wait4(pid);
                    throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                            + " did not finish within " + r.timeout().toMillis() + " ms and was killed");
                }
            }
        }
        ProcessSyscalls.Exit exit = ProcessSyscalls.wait4(pid);
        killGroup(pid); // whatever it left running in its group
        if (exit.exitCode() != 0) {
            String why = err.toString(StandardCharsets.UTF_8).strip();
            throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                    + (exit.signal() != 0 ? " was killed by signal " + exit.signal() : " exited " + exit.exitCode())
                    + (why.isEmpty() ? "" : ": " + why.lines().reduce((a, b) -> b).orElse("")));
        }
        return kind(out.toString(StandardCharsets.UTF_8).strip());
    }

    /**
     * The descriptors a source names as {@code /proc/thread-self/fd/N} (the daemon passes sources it
     * opened that way): the plugin inherits each under the same number, so the path means the same
     * file in the plugin.
     */
    private static List<Integer> passedDescriptors(String source) {
        List<Integer> out = new ArrayList<>();
        for (String part : source.split("\\+")) {
            Matcher m = PASSED.matcher(part);
            if (m.matches()) out.add(Integer.parseInt(m.group(1)));
        }
        return out;
    }

    private static final Pattern PASSED = Pattern.compile("/proc/(?:thread-)?self/fd/([0-9]{1,9})");

    /** Reads both streams until the plugin has ended and closed them; false when the time ran out first. */
    private static boolean collect(Fd pidfd, Fd out, Fd err, ByteArrayOutputStream o, ByteArrayOutputStream e,
                                   Duration timeout) throws ErrnoException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean outOpen = true, errOpen = true, ended = false;
        while (outOpen || errOpen || !ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            Fd[] fds = java.util.stream.Stream.of(outOpen ? out : null, errOpen ? err : null, ended ? null : pidfd)
                    .filter(java.util.Objects::nonNull).toArray(Fd[]::new);
            int ready = ProcessSyscalls.pollReadable(Duration.ofNanos(left), fds);
            if (ready < 0) return false;
            Fd f = fds[ready];
            if (f == pidfd) {
                ended = true;
                continue;
            }
            byte[] chunk = ProcessSyscalls.read(f, 65536);
            if (chunk.length == 0) {
                if (f == out) outOpen = false;
                else errOpen = false;
            } else if ((f == out ? o : e).size() < (1 << 20)) {
                (f == out ? o : e).writeBytes(chunk);
            }
        }
        return true;
    }

    private static void killGroup(int pid) {
        try {
            ProcessSyscalls.kill(-pid, ProcessSyscalls.SIGKILL);
        } catch (ErrnoException noneLeft) {
            // the group is empty
        }
    }

    private Kind kind(String reply) throws MountException {
        if (reply.isEmpty()) return Kind.UNSAID;
        PluginReply.Builder b = PluginReply.newBuilder();
        try {
            JsonFormat.parser().ignoringUnknownFields().merge(reply, b);
        } catch (InvalidProtocolBufferException e) {
            throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                    + " answered something that is not a plugin reply: " + e.getMessage());
        }
        return switch (b.getKind()) {
            case "file" -> Kind.FILE;
            case "directory" -> Kind.DIRECTORY;
            case "" -> Kind.UNSAID;
            default -> throw new MountException(MountException.Reason.SYSTEM, Quote.string(program.toString())
                    + " answered an unknown kind " + Quote.string(b.getKind()) + " (file, directory, or none)");
        };
    }
}
