package dev.mountkeeper.shared;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The options of the daemon's own /proc that limit what a procfs shows: hidepid, gid, subset.
 * Each procfs mount has its own, so a fresh one for a client would otherwise show every user's
 * processes on a host that hides them; the daemon gives its procfs mounts the host's.
 */
final class HostProc {
    private HostProc() {}

    static List<String[]> params() throws IOException {
        return params(Files.readAllLines(Path.of("/proc/self/mountinfo")));
    }

    /** From mountinfo lines: the super options of the topmost procfs on /proc, those that limit it. */
    static List<String[]> params(List<String> mountinfo) {
        String options = "";
        for (String line : mountinfo) {
            List<String> f = Arrays.asList(line.split(" "));
            int dash = f.indexOf("-");
            if (f.size() > 4 && f.get(4).equals("/proc") && dash > 0 && dash + 3 < f.size() && f.get(dash + 1).equals("proc")) {
                options = f.get(dash + 3); // later lines are mounts on top
            }
        }
        List<String[]> out = new ArrayList<>();
        for (String o : options.split(",")) {
            int eq = o.indexOf('=');
            if (eq > 0 && List.of("hidepid", "gid", "subset").contains(o.substring(0, eq))) {
                out.add(new String[] {o.substring(0, eq), o.substring(eq + 1)});
            }
        }
        return out;
    }
}
