package dev.mountkeeper.cli;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.sandbox.HostPrograms;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Rootless runs. A JVM cannot unshare a user namespace (it is multithreaded), so when `run` is
 * started without root, or with --rootless, the whole process re-executes itself through
 * unshare(1) in a new user namespace (mapping the caller's uid and gid, or --uid/--gid, and keeping that
 * namespace's capabilities for this process only), with the same command line. The same
 * process id stays: nothing is left waiting in between.
 */
final class Rootless {
    private Rootless() {}

    static final String MARK = "MOUNTKEEPER_IN_USERNS";

    /** Re-executes for `run` when needed; returns only when it is not needed (or already done). */
    static void reexecIfNeeded(String[] args) {
        if (args.length == 0 || !args[0].equals("run")) return;
        if (System.getenv(MARK) != null) {
            // Re-executed with the namespace's capabilities in the ambient set (--keep-caps): this
            // thread, which starts the sandbox's threads, keeps its own, and whatever it starts without
            // uid 0 (PID 1, the command) gets none, as under bubblewrap.
            if (ProcessSyscalls.geteuid() != 0) clearAmbient();
            return;
        }
        boolean asked = false;
        String uid = String.valueOf(ProcessSyscalls.geteuid()), gid = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--") || !a.startsWith("-")) break;
            if (a.equals("--rootless") || a.equals("--unshare-user") || a.equals("--unshare-user-try")) asked = true;
            // Their values are checked by `run` itself; here only which ids the namespace maps.
            if (a.equals("--uid") && i + 1 < args.length) uid = args[++i];
            if (a.equals("--gid") && i + 1 < args.length) gid = args[++i];
        }
        if (!asked && ProcessSyscalls.geteuid() == 0) return;
        ProcessHandle.Info self = ProcessHandle.current().info();
        String unshare = HostPrograms.find(HostPrograms.UNSHARE).orElse(null);
        if (unshare == null || self.command().isEmpty() || self.arguments().isEmpty()) {
            System.err.println("mountkeeper run: not root, and cannot re-execute in a user namespace (no unshare(1))");
            System.exit(1);
        }
        // The caller's own uid and gid inside (or --uid/--gid), as bubblewrap's: the caller's one id is
        // all an unprivileged user may map. --keep-caps: this process keeps the namespace's
        // capabilities across the exec to build the sandbox; the command gets none of them.
        List<String> argv = new ArrayList<>(List.of("unshare", "--user", "--map-user=" + uid,
                "--map-group=" + (gid != null ? gid : effectiveGid()), "--keep-caps", "--", self.command().get()));
        argv.addAll(List.of(self.arguments().get()));
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) env.add(e.getKey() + "=" + e.getValue());
        env.add(MARK + "=1");
        try {
            ProcessSyscalls.execve(unshare, argv, env);
        } catch (ErrnoException e) {
            System.err.println("mountkeeper run: cannot re-execute in a user namespace: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void clearAmbient() {
        try {
            ProcessSyscalls.prctl(ProcessSyscalls.PR_CAP_AMBIENT, ProcessSyscalls.PR_CAP_AMBIENT_CLEAR_ALL, 0);
        } catch (ErrnoException e) {
            System.err.println("mountkeeper run: cannot clear the ambient capabilities: " + e.getMessage());
            System.exit(1);
        }
    }

    /** The effective gid, the second field of "Gid:" in /proc/self/status. */
    private static String effectiveGid() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Gid:")) return line.split("\\s+")[2];
            }
        } catch (java.io.IOException e) {
            // below
        }
        return "0";
    }
}
