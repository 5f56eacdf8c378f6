package dev.mountkeeper.cli;

import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.sandbox.Stdio;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mountkeeper run}: options read like bubblewrap's and are applied in the order given, so
 * each setter adds its step to the builder as picocli meets it. Options taking two values get the
 * values seen so far (picocli accumulates them), so each takes the last two.
 */
@Command(name = "run", mixinStandardHelpOptions = true, header = "Run a command in a sandbox with the mounts it declares.",
        description = {"Runs COMMAND in its own mount, pid, IPC and UTS namespaces, in a root assembled from",
                "the options, applied in order (later mounts go over earlier ones). Without --root the",
                "root is a fresh tmpfs. The mounts exist only inside the sandbox and disappear with it,",
                "even if mountkeeper is killed; if mountkeeper dies, the command dies too.",
                "",
                "Exit status: the command's, 128+N if signal N killed it, 124 on --timeout,",
                "126 if it cannot be executed, 127 if it is not found, 2 for bad options or specs."},
        footer = {"", "Example: mountkeeper run --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \\",
                "           --symlink usr/bin /bin --proc /proc --dev /dev --tmpfs /tmp -- sh -c 'ls /proc'"})
final class RunCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    private final Sandbox.Builder b = Sandbox.builder().env(callerEnvironment());
    private String chdir = "/";
    private Long nextSize;
    private Integer nextPerms;

    @Option(names = "--root", paramLabel = "DIR", description = "Pivot into DIR (mounts are added inside it) instead of a fresh tmpfs.")
    void root(String dir) { b.root(dir); }

    @Option(names = "--bind", arity = "2", paramLabel = "SRC DEST", description = "Bind SRC (recursively, without devices) on DEST.")
    void bind(String[] v) { b.bind(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--bind-try", arity = "2", paramLabel = "SRC DEST", description = "Like --bind, skipped if SRC is missing.")
    void bindTry(String[] v) { b.bindTry(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--ro-bind", arity = "2", paramLabel = "SRC DEST", description = "Bind SRC read-only on DEST.")
    void roBind(String[] v) { b.roBind(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--ro-bind-try", arity = "2", paramLabel = "SRC DEST", description = "Like --ro-bind, skipped if SRC is missing.")
    void roBindTry(String[] v) { b.roBindTry(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--dev-bind", arity = "2", paramLabel = "SRC DEST", description = "Bind SRC on DEST, device nodes usable.")
    void devBind(String[] v) { b.devBind(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--proc", paramLabel = "DEST", description = "A fresh procfs showing only the sandbox's processes.")
    void proc(String dest) { b.proc(dest); }

    @Option(names = "--sys", paramLabel = "DEST", description = "A fresh read-only sysfs.")
    void sys(String dest) { b.sys(dest); }

    @Option(names = "--dev", paramLabel = "DEST", description = "A minimal /dev (null, zero, full, random, urandom, tty, pts, shm).")
    void dev(String dest) { b.dev(dest); }

    @Option(names = "--tmpfs", paramLabel = "DEST", description = "A tmpfs (sized by a preceding --size, mode by --perms).")
    void tmpfs(String dest) {
        b.tmpfs(dest, nextSize, nextPerms);
        nextSize = null;
        nextPerms = null;
    }

    @Option(names = "--size", paramLabel = "BYTES", description = "Size of the next --tmpfs.")
    void size(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("--size " + bytes + " is not positive");
        nextSize = bytes;
    }

    @Option(names = "--perms", paramLabel = "OCTAL", description = "Mode of the next --tmpfs, --dir or --file.")
    void perms(String octal) {
        try {
            nextPerms = Integer.parseInt(octal, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--perms " + octal + " is not an octal mode");
        }
    }

    @Option(names = "--dir", paramLabel = "DEST", description = "Create a directory.")
    void dir(String dest) {
        b.dir(dest, nextPerms);
        nextPerms = null;
    }

    @Option(names = "--symlink", arity = "2", paramLabel = "TARGET DEST", description = "Create a symbolic link DEST pointing to TARGET.")
    void symlink(String[] v) { b.symlink(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--file", arity = "2", paramLabel = "FD DEST", description = "Copy what can be read from FD into the file DEST.")
    void file(String[] v) {
        int fd;
        try {
            fd = Integer.parseInt(v[v.length - 2]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--file " + v[v.length - 2] + ": not a file descriptor number");
        }
        try {
            b.file(v[v.length - 1], Files.readAllBytes(Path.of("/proc/self/fd/" + fd)));
        } catch (IOException e) {
            throw new IllegalArgumentException("--file " + fd + ": cannot read the descriptor: " + e.getMessage());
        }
    }

    @Option(names = "--data", arity = "2", paramLabel = "TEXT DEST", description = "Create the file DEST holding TEXT.")
    void data(String[] v) { b.file(v[v.length - 1], v[v.length - 2]); }

    @Option(names = "--mount", paramLabel = "SPEC", description = "A step in the spec language, TYPE:SOURCE:DEST[:OPTIONS].")
    void mount(String s) { b.mount(s); }

    @Option(names = "--spec-file", paramLabel = "FILE", description = "Specs, one per line (blank lines and # comments ignored).")
    void specFile(String file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("--spec-file " + file + ": " + e.getMessage());
        }
        for (String line : lines) {
            String s = line.strip();
            if (!s.isEmpty() && !s.startsWith("#")) b.mount(MountSpecs.parse(s));
        }
    }

    @Option(names = "--chdir", paramLabel = "DIR", description = "Working directory inside the sandbox (default /).")
    void chdir(String dir) { b.chdir(dir); chdir = dir; }

    @Option(names = "--setenv", arity = "2", paramLabel = "VAR VALUE", description = "Set an environment variable.")
    void setenv(String[] v) { b.setEnv(v[v.length - 2], v[v.length - 1]); }

    @Option(names = "--unsetenv", paramLabel = "VAR", description = "Unset an environment variable.")
    void unsetenv(String name) { b.unsetEnv(name); }

    @Option(names = "--clearenv", description = "Start from an empty environment (PWD stays, as with bubblewrap).")
    void clearenv(boolean on) {
        if (!on) return;
        b.clearEnv();
        String pwd = System.getenv("PWD");
        if (pwd != null) b.setEnv("PWD", pwd);
    }

    @Option(names = "--unshare-net", description = "A new network namespace (only loopback, down).")
    void unshareNet(boolean on) { b.unshareNet(on); }

    @Option(names = "--share-net", description = "Keep the host's network (the default).")
    void shareNet(boolean on) { if (on) b.unshareNet(false); }

    @Option(names = "--unshare-all", description = "New network namespace too.")
    void unshareAll(boolean on) { if (on) b.unshareNet(true); }

    @Option(names = {"--unshare-pid", "--unshare-ipc", "--unshare-uts"}, description = "Accepted for bubblewrap users; always on.")
    boolean alwaysOn;

    @Option(names = "--die-with-parent", description = "End the sandbox, and mountkeeper, when the process that started it dies.")
    boolean dieWithParent;

    @Option(names = "--hostname", paramLabel = "NAME", description = "Hostname inside the sandbox.")
    void hostname(String name) { b.hostname(name); }

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Kill the command and everything it started after this long.")
    void timeout(String s) { b.timeout(Durations.parse("--timeout", s)); }

    @Option(names = "--new-session", description = "Run the command in a session of its own (setsid): the default.")
    void newSession(boolean on) { if (on) b.newSession(true); }

    @Option(names = "--no-new-session", description = "Let the command share the caller's session and terminal (it can then inject input into it).")
    void shareSession(boolean on) { if (on) b.newSession(false); }

    @Option(names = "--keep-caps", description = "Let a command run as root keep its capabilities (by default it has none).")
    void keepCaps(boolean on) { keepCaps = on; }

    @Option(names = "--stdout", paramLabel = "FILE", description = "Write the command's standard output to FILE.")
    String stdout;

    @Option(names = "--stderr", paramLabel = "FILE", description = "Write the command's standard error to FILE.")
    String stderr;

    @Option(names = "--stdin", paramLabel = "FILE", description = "Read the command's standard input from FILE.")
    String stdin;

    @Option(names = {"--unshare-user", "--unshare-user-try"}, description = "A user namespace, as --rootless.")
    boolean unshareUser;

    @Option(names = "--uid", paramLabel = "UID", description = "The command's uid in its user namespace (with --unshare-user or rootless).")
    void uid(String id) { ids("--uid", id); }

    @Option(names = "--gid", paramLabel = "GID", description = "The command's gid in its user namespace (with --unshare-user or rootless).")
    void gid(String id) { ids("--gid", id); }

    /** Applied by the re-execution into the user namespace (Rootless), which maps exactly this id. */
    private static void ids(String option, String id) {
        try {
            if (Long.parseLong(id) >= 0 && Long.parseLong(id) < 0xffffffffL) {
                if (System.getenv(Rootless.MARK) == null) {
                    throw new IllegalArgumentException(option + " needs a user namespace (--unshare-user)");
                }
                return;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(option + " " + id + " is not a numeric id");
    }

    @Option(names = {"--unshare-cgroup", "--unshare-cgroup-try"}, description = "Accepted for bubblewrap users; the cgroup namespace stays the caller's.")
    boolean unshareCgroup;

    @Option(names = "--cap-add", paramLabel = "CAP", description = "Keep capability CAP (or ALL) for the command.")
    void capAdd(String name) {
        long m = dev.mountkeeper.sandbox.CapabilityNames.mask("--cap-add", name);
        if (capsKept == null) capsKept = 0L;
        capsKept |= m;
    }

    @Option(names = "--cap-drop", paramLabel = "CAP", description = "Take capability CAP (or ALL) from the command.")
    void capDrop(String name) {
        long m = dev.mountkeeper.sandbox.CapabilityNames.mask("--cap-drop", name);
        if (capsKept == null) capsKept = defaultCaps();
        capsKept &= ~m;
    }

    /** null: as --keep-caps says; else the capabilities the command keeps (bits by number). */
    private Long capsKept;
    private boolean keepCaps;

    /** bubblewrap's rule: a command run as root, without a user namespace, keeps them all. */
    private long defaultCaps() {
        return keepCaps || (Bwrap.active() && !unshareUser && dev.mountkeeper.linux.ProcessSyscalls.geteuid() == 0
                && System.getenv(Rootless.MARK) == null) ? -1L : 0L;
    }

    @Option(names = "--as-pid-1", description = "Refused: PID 1 is the sandbox's guard, whose end ends everything in it.")
    void asPid1(boolean on) {
        if (on) throw new IllegalArgumentException("--as-pid-1 is not supported: PID 1 of the sandbox is its guard, "
                + "whose end kills everything in it");
    }

    @Option(names = "--info-fd", paramLabel = "FD", description = "Write JSON with the command's pid and namespace ids to FD once it runs.")
    void infoFd(String fd) { infoFd = StatusFd.number("--info-fd", fd); }

    @Option(names = "--json-status-fd", paramLabel = "FD", description = "Like --info-fd, then the command's exit code as JSON when it ends.")
    void jsonStatusFd(String fd) { jsonStatusFd = StatusFd.number("--json-status-fd", fd); }

    @Option(names = "--lock-file", paramLabel = "FILE", description = "Hold a lock on FILE while the sandbox runs.")
    List<String> lockFiles = new java.util.ArrayList<>();

    private Integer infoFd, jsonStatusFd;

    @Option(names = "--rootless", description = "Run in a user namespace (automatic when not root; the launcher re-executes).")
    boolean rootless;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments.")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        if (dieWithParent) ParentWatch.start();
        b.command(command);
        // The command starts in its own working directory, not the caller's: PWD says so.
        if (b.hasEnv("PWD")) b.setEnv("PWD", chdir);
        b.stdio(new Stdio(stdin == null ? Stdio.Redirect.INHERIT : new Stdio.Redirect.FromFile(stdin),
                stdout == null ? Stdio.Redirect.INHERIT : new Stdio.Redirect.ToFile(stdout, false),
                stderr == null ? Stdio.Redirect.INHERIT : new Stdio.Redirect.ToFile(stderr, false)));
        java.util.List<java.nio.channels.FileChannel> locks = new java.util.ArrayList<>();
        for (String f : lockFiles) {
            var ch = java.nio.channels.FileChannel.open(Path.of(f), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE);
            ch.lock();
            locks.add(ch);
        }
        StatusFd info = infoFd == null ? null : StatusFd.open(infoFd);
        StatusFd status = jsonStatusFd == null ? null : StatusFd.open(jsonStatusFd);
        if (info != null || status != null) {
            b.onStart(pid -> {
                if (info != null) info.started(pid, true);
                if (status != null) status.started(pid, false);
            });
        }
        long kept = capsKept != null ? capsKept : defaultCaps();
        b.keepCapabilities(kept != 0).dropCapabilities(~kept);
        Sandbox sandbox = b.build();
        RunResult r = new SandboxRunner().run(sandbox);
        if (status != null) status.exited(r.shellStatus());
        if (r.timedOut()) {
            spec.commandLine().getErr().println("mountkeeper run: timed out after " + sandbox.timeout().toMillis()
                    + " ms; killed the command and everything it started");
            spec.commandLine().getErr().flush();
            return 124;
        }
        return r.shellStatus();
    }

    /**
     * The caller's environment: ours, less what the launcher script and the rootless re-execution
     * added (the command's environment is exactly the caller's plus what the options say).
     */
    private static java.util.Map<String, String> callerEnvironment() {
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>(System.getenv());
        env.remove(Rootless.MARK);
        for (String name : System.getProperty("mountkeeper.launcher.added", "").split(",")) {
            if (!name.isEmpty()) env.remove(name);
        }
        return env;
    }

    /** Seconds as a decimal ("2", "0.5"), or with a unit ("500ms", "2s", "1m"). */
    static final class Durations {
        private Durations() {}

        static Duration parse(String option, String s) {
            try {
                if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
                if (s.endsWith("m")) return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
                String n = s.endsWith("s") ? s.substring(0, s.length() - 1) : s;
                return Duration.ofNanos(new java.math.BigDecimal(n).movePointRight(9).longValueExact());
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException(option + " " + s + " is not a duration (seconds, or 500ms, 2s, 1m)");
            }
        }
    }
}
