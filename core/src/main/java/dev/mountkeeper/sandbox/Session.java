package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;
import static dev.mountkeeper.linux.NamespaceSyscalls.*;

import dev.mountkeeper.linux.CapabilitySyscalls;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls.Exit;
import dev.mountkeeper.linux.ProcessSyscalls.Pipe;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountOptions;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Propagation;
import dev.mountkeeper.mount.Root;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One run, start to end, on its own platform thread (see linux-mount-facts.md): unshare the mount,
 * pid and other namespaces for this thread only, start PID 1, build the root in this process's {@link Workspace} in the new
 * mount namespace, pivot into it, spawn the command, step back into the host's mount namespace,
 * wait. The mounts exist only in the sandbox's namespace, which dies with its last process: there
 * is nothing to unmount, and nothing can leak, even if we are killed.
 */
final class Session {
    private static final int LOCKED_SECUREBITS = CapabilitySyscalls.SECBIT_NOROOT | CapabilitySyscalls.SECBIT_NOROOT_LOCKED
            | CapabilitySyscalls.SECBIT_NO_SETUID_FIXUP | CapabilitySyscalls.SECBIT_NO_SETUID_FIXUP_LOCKED
            | CapabilitySyscalls.SECBIT_KEEP_CAPS_LOCKED | CapabilitySyscalls.SECBIT_NO_CAP_AMBIENT_RAISE
            | CapabilitySyscalls.SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

    private final Sandbox sandbox;
    private final Mounter mounter;
    private final Pipe wake;
    private volatile boolean cancelled;

    Session(Sandbox sandbox, Mounter mounter, Pipe wake) {
        this.sandbox = sandbox;
        this.mounter = mounter;
        this.wake = wake;
    }

    void cancel() {
        cancelled = true;
    }

    RunResult run(SessionThreads.Worker thread) throws IOException {
        long started = System.nanoTime();
        SessionThreads.Home home = thread.home;
        if (home == null) {
            throw SessionThreads.noHome();
        }
        Map<Integer, Fd> stdio = new HashMap<>();
        Map<Integer, Fd> borrowed = new HashMap<>();
        Sources sources = new Sources();
        Init init = null;
        int child = -1;
        ErrnoException spawnFailure = null;
        try {
            openStdio(stdio, borrowed);
            // Where the new root is built, in the sandbox's own mount namespace only: an empty directory
            // of ours, so that covering it hides nothing this JVM may still load classes from.
            Workspace workspace = Workspace.get();
            // In a user namespace the kernel makes sysfs only for a network namespace of that user
            // namespace: a rootless sandbox with /sys gets its own network namespace.
            boolean net = sandbox.namespaces().net() || (UserNamespace.isNested() && hasSysfs());
            int flags = CLONE_NEWNS | CLONE_FS | CLONE_NEWPID | (sandbox.namespaces().ipc() ? CLONE_NEWIPC : 0)
                    | (sandbox.namespaces().uts() ? CLONE_NEWUTS : 0) | (net ? CLONE_NEWNET : 0);
            boolean back = false;
            NamespaceSyscalls.unshare(flags);
            try {
                // First: it loads on the other CPU while the root is built, and the pivot waits for it.
                init = Init.start();
                // Nothing we mount may propagate back to the host, whatever its "/" is.
                MountSyscalls.mount(null, "/", null, MountSyscalls.MS_REC | MountSyscalls.MS_PRIVATE, null);
                // Opened in the new namespace (open_tree clones only mounts of the caller's own), and
                // before the new root covers the workspace.
                sources.openAll(sandbox);
                if (sandbox.hostname() != null) ProcessSyscalls.sethostname(sandbox.hostname());
                Spawn command;
                try (Fd pidns = openat(AT_FDCWD, "/proc/" + init.pid + "/ns/pid", O_RDONLY, 0)) {
                    Map<Integer, Fd> all = new HashMap<>(stdio);
                    all.putAll(borrowed);
                    command = buildRoot(workspace, sources, new ProcNamespace(pidns), all);
                }
                // From the pivot to the step back, this thread sees the sandbox's files only: it cannot
                // load a class, so it does no more than these few preloaded calls.
                init.awaitRunning();
                pivot(workspace.root());
                if (!sandbox.keepCapabilities() && !thread.capsDropped) {
                    thread.retiring = true; // until all are gone: a thread with some left must not be reused
                    dropCapabilities();
                    thread.capsDropped = true;
                    thread.retiring = false;
                }
                if (sandbox.keepCapabilities()) {
                    // As bubblewrap: the command gains nothing by executing a set-user-ID program.
                    ProcessSyscalls.prctl(ProcessSyscalls.PR_SET_NO_NEW_PRIVS, 1, 0);
                    if (sandbox.dropCapabilities() != 0) {
                        thread.retiring = true; // its bounding set is smaller now: it serves no other run
                        dropSome(sandbox.dropCapabilities());
                    }
                }
                try {
                    child = sandbox.newSession() ? command.startInNewSession() : command.start();
                } catch (ErrnoException e) {
                    spawnFailure = e;
                }
            } finally {
                try {
                    back = home.returnTo(flags);
                } finally {
                    if (!back) thread.retiring = true;
                }
            }
            if (spawnFailure != null) throw spawnError(spawnFailure);
            if (sandbox.onStart() != null) sandbox.onStart().accept(init.pid); // alive, in every namespace, until the end
            RunResult r = await(child, init, started);
            child = -1;
            return r;
        } finally {
            if (child > 0) {
                init.killAll();
                ProcessSyscalls.wait4(child);
            }
            if (init != null) init.close();
            stdio.values().forEach(Fd::close);
            sources.close();
        }
    }

    /**
     * Whether a child of the session other than PID 1 needs capabilities: the command if it keeps
     * them, a provider, or mount(8) making /proc where procfs does not take "pidns".
     */
    static boolean needsCapabilities(Sandbox s, KernelFeatures features) {
        return s.keepCapabilities() || s.ops().stream().anyMatch(op -> op instanceof Op.Mount(MountSpec m)
                && (m instanceof MountSpec.Provided
                        || (!features.procPidns() && m instanceof MountSpec.Filesystem f && f.fsType() == MountSpec.FsType.PROC)));
    }

    private boolean hasSysfs() {
        return sandbox.ops().stream().anyMatch(op -> op instanceof Op.Mount(MountSpec.Filesystem f)
                && f.fsType() == MountSpec.FsType.SYSFS);
    }

    /** Opens the redirected streams into {@code stdio} (ours to close); the caller's own fds go to {@code borrowed}. */
    private void openStdio(Map<Integer, Fd> stdio, Map<Integer, Fd> borrowed) throws IOException {
        Stdio.Redirect[] r = {sandbox.stdio().in(), sandbox.stdio().out(), sandbox.stdio().err()};
        for (int i = 0; i < 3; i++) {
            switch (r[i]) {
                case Stdio.Redirect.Inherit x -> {}
                case Stdio.Redirect.Opened(Fd given) -> borrowed.put(i, given);
                case Stdio.Redirect.Null x -> stdio.put(i, open("/dev/null", O_RDWR, "/dev/null"));
                case Stdio.Redirect.FromFile f -> stdio.put(i, open(f.path(), O_RDONLY, "standard input"));
                case Stdio.Redirect.ToFile f -> stdio.put(i, open(f.path(), O_WRONLY | O_CREAT
                        | (f.exclusive() ? O_EXCL : O_TRUNC), i == 1 ? "standard output" : "standard error"));
            }
        }
    }

    private static Fd open(String path, int flags, String what) throws MountException {
        try {
            return openat(AT_FDCWD, path, flags | O_NOCTTY, 0644);
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.INVALID_INPUT, "Failed to open " + what + " "
                    + Quote.string(path), e);
        }
    }

    /**
     * The root on the workspace's root (a tmpfs, or a bind of the given directory), then every step in order;
     * returns the command, found and checked in that root.
     */
    private Spawn buildRoot(Workspace workspace, Sources sources, ProcNamespace pidns, Map<Integer, Fd> stdio)
            throws IOException {
        String base = workspace.root();
        MountOptions tmpfsOptions = new MountOptions(false, false, false, false, Propagation.PRIVATE, false, false,
                null, 0755);
        MountOptions bindOptions = new MountOptions(false, false, false, false, Propagation.PRIVATE, true, false,
                null, null);
        try (Premounts premounts = Premounts.stage(sandbox, mounter.features(), workspace.staging())) {
            Mounter m = mounter.inSandbox(new Mounter.Sandboxing(sources, pidns, !UserNamespace.isNested())).withStager(premounts);
            try (Root host = Root.open("/")) {
                MountSpec rootSpec = sandbox.root() == null
                        ? new MountSpec.Filesystem(MountSpec.FsType.TMPFS, "mountkeeper-root", base, tmpfsOptions)
                        : new MountSpec.Bind(MountSpec.BindType.BIND, sources.rootPath, base, bindOptions);
                m.mount(host, rootSpec);
            }
            Root root = Root.open(base);
            try {
                for (Op op : sandbox.ops()) {
                    switch (op) {
                        case Op.Mount(MountSpec.Bind b) when isRoot(b.dest()) -> {
                            // A bind on "/" (bubblewrap's `--bind / /`) replaces the whole root: it goes
                            // on the base from outside, and the later steps see it through a new fd.
                            root.close();
                            root = null;
                            try (Root host = Root.open("/")) {
                                m.mount(host, new MountSpec.Bind(b.bindType(), b.source(), base, b.options()));
                            }
                            root = Root.open(base);
                        }
                        case Op.Mount(MountSpec.Filesystem f) when f.fsType() == MountSpec.FsType.PROC -> {
                            // `--bind / / --proc /proc`: the host's whole procfs goes first (nothing is
                            // mounted on a procfs), then the fresh one takes its place.
                            if (isProcRoot(root, f.dest())) unmount(root, new Op.Unmount(f.dest()));
                            // Still there: locked into a user namespace with the host's tree; covered whole.
                            (isProcRoot(root, f.dest()) ? m.coveringLockedProc() : m).mount(root, f);
                        }
                        case Op.Mount mount -> m.mount(root, mount.spec());
                        case Op.WriteFile f -> FileOps.write(root, f);
                        case Op.Unmount u -> unmount(root, u);
                    }
                }
                return command(root, stdio);
            } finally {
                if (root != null) root.close();
            }
        }
    }

    /** Whether {@code dest} is the root directory (inode 1) of a procfs mounted there. */
    private static boolean isProcRoot(Root root, String dest) {
        try (Fd at = root.openInRoot(dest, O_DIRECTORY)) {
            return fstatfsType(at) == PROC_SUPER_MAGIC && fstatx(at, STATX_INO).inode() == 1;
        } catch (IOException e) {
            return false; // missing or not a directory: the mount says why
        }
    }

    private static boolean isRoot(String dest) {
        return java.util.Arrays.stream(dest.split("/")).allMatch(c -> c.isEmpty() || c.equals("."));
    }

    /**
     * Detaches the mount on {@code u.dest()} through the fd of its root, never a path that could
     * change meanwhile. EINVAL is nothing mounted there (or, in a user namespace, a mount that came
     * locked with the host's tree, which the kernel keeps whole): then the step does nothing.
     */
    private static void unmount(Root root, Op.Unmount u) throws MountException {
        try (Fd at = root.openInRoot(u.dest(), O_DIRECTORY)) {
            MountSyscalls.umount2("/proc/thread-self/fd/" + at.get(), MountSyscalls.MNT_DETACH);
        } catch (ErrnoException e) {
            if (e.is(Errno.EINVAL)) return;
            throw new MountException(e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR) ? MountException.Reason.INVALID_INPUT
                    : MountException.Reason.SYSTEM, "Failed to unmount " + Quote.string(u.dest()) + " in the sandbox", e);
        }
    }

    /** pivot_root(".", ".") in the new root, then detach the old one: the host's tree is gone from here. */
    private static void pivot(String base) throws ErrnoException {
        try (Fd newRoot = openat(AT_FDCWD, base, O_PATH | O_DIRECTORY, 0)) {
            fchdir(newRoot);
        }
        NamespaceSyscalls.pivotRoot(".", ".");
        MountSyscalls.umount2(".", MountSyscalls.MNT_DETACH);
        try (Fd slash = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY, 0)) {
            fchdir(slash);
        }
    }

    /**
     * Leaves the command none: a root execve gives it the bounding set plus the inheritable set (a
     * runner started with inheritable capabilities, as some container engines and PAM set up,
     * would pass them on), and the ambient set. So the bounding, inheritable and ambient sets are
     * emptied, and the securebits are locked so that uid 0 gains nothing by exec and nothing can
     * raise ambient capabilities again. This thread keeps its own effective and permitted sets (it
     * still has to step back into its namespaces), and serves only such runs from now on.
     */
    private static void dropCapabilities() throws ErrnoException {
        for (int cap = 0; cap <= Capabilities.LAST; cap++) {
            try {
                ProcessSyscalls.prctl(ProcessSyscalls.PR_CAPBSET_DROP, cap, 0);
            } catch (ErrnoException e) {
                if (e.is(Errno.EINVAL)) break; // past the last capability this kernel knows
                throw e;
            }
        }
        ProcessSyscalls.prctl(ProcessSyscalls.PR_CAP_AMBIENT, ProcessSyscalls.PR_CAP_AMBIENT_CLEAR_ALL, 0);
        CapabilitySyscalls.Sets own = CapabilitySyscalls.capget();
        CapabilitySyscalls.capset(new CapabilitySyscalls.Sets(own.effective(), own.permitted(), 0));
        ProcessSyscalls.prctl(CapabilitySyscalls.PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0);
        ProcessSyscalls.prctl(ProcessSyscalls.PR_SET_NO_NEW_PRIVS, 1, 0);
    }

    /**
     * Some of the bounding set (bits by number): a root execve gets no more than the bounding set.
     * The inheritable set is then what is kept, as bubblewrap's --cap-add/--cap-drop set it.
     */
    private static void dropSome(long mask) throws ErrnoException {
        long dropped = 0;
        for (int cap = 0; cap <= Math.min(Capabilities.LAST, 63); cap++) {
            if ((mask & (1L << cap)) == 0) continue;
            try {
                ProcessSyscalls.prctl(ProcessSyscalls.PR_CAPBSET_DROP, cap, 0);
            } catch (ErrnoException e) {
                if (e.is(Errno.EINVAL)) break;
                throw e;
            }
            dropped |= 1L << cap;
        }
        ProcessSyscalls.prctl(ProcessSyscalls.PR_CAP_AMBIENT, ProcessSyscalls.PR_CAP_AMBIENT_CLEAR_ALL, 0);
        CapabilitySyscalls.Sets own = CapabilitySyscalls.capget();
        CapabilitySyscalls.capset(new CapabilitySyscalls.Sets(own.effective(), own.permitted(), own.permitted() & ~dropped & ~mask));
    }

    private Spawn command(Root root, Map<Integer, Fd> stdio) throws IOException {
        String cwd = sandbox.chdir();
        var dir = CommandLookup.stat(root, cwd);
        if (dir == null || !dir.isDirectory()) {
            throw new SandboxException(MountException.Reason.INVALID_INPUT, 2, "Working directory "
                    + Quote.string(cwd) + " is not a directory inside the sandbox", null);
        }
        String path = CommandLookup.resolve(root, sandbox.command().getFirst(), sandbox.lookup(), sandbox.env(), cwd);
        List<String> env = new ArrayList<>(sandbox.env().size());
        sandbox.env().forEach((k, v) -> env.add(k + "=" + v));
        return new Spawn(path, sandbox.command(), env, cwd, stdio);
    }

    private SandboxException spawnError(ErrnoException e) {
        String name = Quote.string(sandbox.command().getFirst());
        if (e.is(Errno.ENOENT)) return SandboxException.commandNotFound("Failed to run " + name + ": " + e.getMessage());
        if (e.is(Errno.EACCES) || e.is(Errno.ENOEXEC) || e.is(Errno.EISDIR) || e.is(Errno.EPERM)) {
            return SandboxException.notExecutable("Failed to run " + name, e);
        }
        return new SandboxException(MountException.Reason.SYSTEM, 1, "Failed to run " + name, e);
    }

    /** Waits for the command, or the timeout, or a cancel; then kills everything left in the namespace. */
    private RunResult await(int child, Init init, long started) throws IOException {
        Duration timeout = sandbox.timeout();
        long deadline = timeout == null ? Long.MAX_VALUE : started + timeout.toNanos();
        boolean timedOut = false;
        try (Fd pidfd = ProcessSyscalls.pidfdOpen(child)) {
            while (!cancelled) {
                Duration left = timeout == null ? null : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                int ready = ProcessSyscalls.pollReadable(left, pidfd, wake.read());
                if (ready == 0) break;
                if (ready == -1 && System.nanoTime() >= deadline) {
                    timedOut = true;
                    break;
                }
            }
        }
        boolean wasCancelled = cancelled && !timedOut;
        if (timedOut || wasCancelled) init.killAll();
        Exit exit = ProcessSyscalls.wait4(child);
        init.close(); // the daemons it left behind die here, before the namespace and its mounts go
        return new RunResult(exit.exitCode(), exit.signal(), timedOut, wasCancelled, exit.usage(), Duration.ofNanos(System.nanoTime() - started));
    }

    /** Bind sources, opened on the host before the sandbox's root covers anything, handed out in order. */
    static final class Sources implements Mounter.BindSources, AutoCloseable {
        private final Map<String, List<Object>> opened = new HashMap<>();
        String rootPath;

        void openAll(Sandbox s) throws IOException {
            if (s.root() != null) {
                rootPath = dev.mountkeeper.mount.SpecPaths.absolute("root", s.root().startsWith("/") ? s.root()
                        : System.getProperty("user.dir") + "/" + s.root());
                if (s.rootBeneath() == null) {
                    add(rootPath, O_DIRECTORY);
                } else {
                    addBeneath(rootPath, s.rootBeneath());
                    rootPath = rootPath + "/" + s.rootBeneath();
                }
                // Said at once, by name: not as a bind source, and before anything is made.
                if (opened.get(rootPath).getFirst() instanceof ErrnoException e) {
                    throw new MountException(e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR) ? MountException.Reason.INVALID_INPUT
                            : MountException.Reason.SYSTEM, "Failed to open the sandbox root " + Quote.string(rootPath), e);
                }
            }
            for (Op op : s.ops()) {
                if (op instanceof Op.Mount(MountSpec.Bind b)) add(b.source(), 0);
            }
        }

        /** The root, found by walking from {@code base} without leaving it, so a symlink cannot redirect it. */
        private void addBeneath(String base, String beneath) {
            Object fdOrError;
            try (Fd dir = openat2(AT_FDCWD, base, O_PATH | O_DIRECTORY, 0, 0)) {
                fdOrError = openat2(dir.get(), beneath, O_PATH | O_DIRECTORY, 0, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
            } catch (ErrnoException e) {
                fdOrError = e;
            }
            opened.computeIfAbsent(base + "/" + beneath, k -> new ArrayList<>()).add(fdOrError);
        }

        private void add(String source, int flags) {
            Object fdOrError;
            try {
                fdOrError = openat2(AT_FDCWD, source, O_PATH | flags, 0, 0);
            } catch (ErrnoException e) {
                fdOrError = e;
            }
            opened.computeIfAbsent(source, k -> new ArrayList<>()).add(fdOrError);
        }

        @Override
        public Fd open(String source) throws ErrnoException {
            List<Object> list = opened.get(source);
            if (list == null || list.isEmpty()) throw new IllegalStateException("bind source " + source + " was not opened");
            Object o = list.removeFirst();
            if (o instanceof ErrnoException e) throw e;
            return (Fd) o;
        }

        @Override
        public void close() {
            opened.values().forEach(l -> l.forEach(o -> {
                if (o instanceof Fd fd && fd.isOpen()) fd.close();
            }));
            opened.clear();
        }
    }
}
