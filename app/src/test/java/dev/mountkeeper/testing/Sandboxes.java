package dev.mountkeeper.testing;

import dev.mountkeeper.sandbox.RunResult;
import dev.mountkeeper.sandbox.Sandbox;
import dev.mountkeeper.sandbox.SandboxRunner;
import dev.mountkeeper.sandbox.Stdio;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Sandboxes the tests run in, and the host-side views the tests assert with. */
public final class Sandboxes {
    private Sandboxes() {}

    /** A root of read-only host /usr and /etc, the usual links, /dev, a tmpfs /tmp: everything but /proc. */
    public static Sandbox.Builder hostTools() {
        return Sandbox.builder().roBind("/usr", "/usr").roBind("/etc", "/etc")
                .symlink("usr/lib", "/lib").symlink("usr/lib64", "/lib64").symlink("usr/bin", "/bin")
                .symlink("usr/sbin", "/sbin").dev("/dev").tmpfs("/tmp")
                .clearEnv().setEnv("PATH", "/usr/bin:/bin").setEnv("HOME", "/tmp");
    }

    public static Sandbox.Builder withProc() {
        return hostTools().proc("/proc");
    }

    /** What a run printed on standard output and standard error (to files on the host). */
    public record Output(RunResult result, String out, String err) {}

    public static Output run(SandboxRunner runner, Sandbox.Builder b, Path tmp) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt"), err = Files.createTempFile(tmp, "err", ".txt");
        RunResult r = runner.run(b.stdio(new Stdio(Stdio.Redirect.NULL, new Stdio.Redirect.ToFile(out.toString(), false),
                new Stdio.Redirect.ToFile(err.toString(), false))).build());
        return new Output(r, Files.readString(out), Files.readString(err));
    }

    /**
     * Host pids of processes whose command line contains {@code marker}, once there have been
     * {@code count} of them in three polls in a row (or after about 5 s, whatever there are then).
     * One poll is not enough: a forked shell carries its parent's command line until it execs, and
     * a listing of /proc can name a process that has exited by the time its command line is read.
     */
    public static List<Long> awaitProcessesWith(String marker, int count) throws InterruptedException {
        List<Long> seen = processesWith(marker);
        for (int i = 0, stable = 0; i < 500 && stable < 3; i++, Thread.sleep(10)) {
            seen = processesWith(marker);
            stable = seen.size() == count ? stable + 1 : 0;
        }
        return seen;
    }

    /** Host pids of processes whose command line contains {@code marker}. */
    public static List<Long> processesWith(String marker) {
        List<Long> found = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.contains(marker) && Long.parseLong(name) != ProcessHandle.current().pid()) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }
}
