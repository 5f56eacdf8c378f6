package dev.mountkeeper.mount;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.FileSyscalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Who keeps a mount busy: processes with an open fd, a working directory or a root on one of the
 * mounts, found by the mount id of each /proc/PID link, or a file mapped from below its path.
 */
public final class Holders {
    private Holders() {}

    /** One process and what it holds, e.g. {@code pid 4242 (sleep): cwd}. */
    public record Holder(long pid, String command, List<String> what) {
        @Override
        public String toString() {
            return "pid " + pid + " (" + command + "): " + String.join(", ", what);
        }
    }

    public static List<Holder> find(Set<Long> mountIds, String hostPath, KernelFeatures features) {
        List<Holder> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path proc : procs) {
                List<String> what = new ArrayList<>();
                if (on(proc.resolve("cwd"), mountIds, features)) what.add("cwd");
                if (on(proc.resolve("root"), mountIds, features)) what.add("root");
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) if (on(fd, mountIds, features)) what.add("fd " + fd.getFileName());
                } catch (IOException gone) {
                    // exited meanwhile, or not ours to look at
                }
                try {
                    for (String line : Files.readAllLines(proc.resolve("maps"))) {
                        int slash = line.indexOf('/');
                        if (slash > 0 && SpecPaths.isAtOrBelow(line.substring(slash), hostPath)) {
                            what.add("maps " + line.substring(slash));
                            break;
                        }
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
                if (!what.isEmpty()) out.add(new Holder(Long.parseLong(proc.getFileName().toString()), command(proc), what));
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    private static boolean on(Path link, Set<Long> ids, KernelFeatures features) {
        try {
            return ids.contains(FileSyscalls.statx(FileSyscalls.AT_FDCWD, link.toString(), 0,
                    features.statxMountIdMask()).mountId());
        } catch (ErrnoException e) {
            return false;
        }
    }

    private static String command(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
