package dev.mountkeeper.shared;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What /proc says about a process: enough to tell it apart from a later process that reuses its
 * pid (start time plus boot id), and whose it is.
 */
public final class Processes {
    private Processes() {}

    /** One process as seen now: its start time in clock ticks since boot, real uid, and groups. */
    public record Identity(long pid, long startTime, int uid, List<Integer> groups) {}

    private static final String BOOT_ID = readBootId();

    public static String bootId() {
        return BOOT_ID;
    }

    private static String readBootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the boot id: " + e.getMessage(), e);
        }
    }

    /** The process with this pid now, or empty if there is none (or it is a zombie already). */
    public static Optional<Identity> identify(long pid) {
        if (pid <= 0) return Optional.empty();
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            String stat = Files.readString(dir.resolve("stat"));
            // comm may contain spaces and parentheses: the fields start after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            if (f[0].equals("Z") || f[0].equals("X")) return Optional.empty();
            long start = Long.parseLong(f[19]);
            int uid = -1;
            List<Integer> groups = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve("status"))) {
                if (line.startsWith("Uid:")) uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                if (line.startsWith("Gid:")) groups.add(Integer.parseInt(line.substring(4).trim().split("\\s+")[0]));
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) if (!g.isEmpty()) groups.add(Integer.parseInt(g));
                }
            }
            return Optional.of(new Identity(pid, start, uid, List.copyOf(groups)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the process {@code pid} that started at {@code startTime} in boot {@code bootId} still lives. */
    public static boolean alive(long pid, long startTime, String bootId) {
        return bootId.equals(BOOT_ID) && identify(pid).map(i -> i.startTime() == startTime).orElse(false);
    }
}
