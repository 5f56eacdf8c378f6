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
 * unshare(1) in a new user namespace where it is root, with the same command line. The same
 * process id stays: nothing is left waiting in between.
 */
final class Rootless {
    private Rootless() {}

    static final String MARK = "MOUNTKEEPER_IN_USERNS";

    /** Re-executes for `run` when needed; returns only when it is not needed (or already done). */
    static void reexecIfNeeded(String[] args) {
        if (args.length == 0 || !args[0].equals("run") || System.getenv(MARK) != null) return;
        boolean asked = false;
        for (String a : args) {
            if (a.equals("--")) break;
            if (a.equals("--rootless") || a.equals("--unshare-user") || a.equals("--unshare-user-try")) asked = true;
        }
        if (!asked && ProcessSyscalls.geteuid() == 0) return;
        ProcessHandle.Info self = ProcessHandle.current().info();
        String unshare = HostPrograms.find(HostPrograms.UNSHARE).orElse(null);
        if (unshare == null || self.command().isEmpty() || self.arguments().isEmpty()) {
            System.err.println("mountkeeper run: not root, and cannot re-execute in a user namespace (no unshare(1))");
            System.exit(1);
        }
        List<String> argv = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--", self.command().get()));
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
}
