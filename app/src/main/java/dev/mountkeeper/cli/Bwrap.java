package dev.mountkeeper.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bubblewrap's dialect of `run`: when the launcher is started as {@code bwrap} (a link to it), it
 * passes {@code -Dmountkeeper.as=bwrap} and its own argv[0], and `run` then prints bubblewrap's
 * usage line and messages ({@code bwrap: ...}) and exits 1 for every failure of its own, as
 * bubblewrap does. Under its own name `run` keeps its clearer statuses (2, 126, 127).
 */
final class Bwrap {
    private Bwrap() {}

    static boolean active() {
        return "bwrap".equals(System.getProperty("mountkeeper.as"));
    }

    static String argv0() {
        return System.getProperty("mountkeeper.argv0", "bwrap");
    }

    private static final Pattern[] OURS = {
            Pattern.compile("^Failed to open bind source \"(.*?)\": .*\\((.*)\\)$"),
            Pattern.compile("^Destination \".*?\" is a symbolic link to \"(.*?)\", not to \"(.*?)\"$")};

    /** Our message in bubblewrap's words where a caller may match on them; else ours. */
    static String message(String own) {
        Matcher m = OURS[0].matcher(own);
        if (m.matches()) return "Can't find source path " + m.group(1) + ": " + m.group(2);
        m = OURS[1].matcher(own);
        if (m.matches()) return "Can't make symlink at " + m.group(2) + ": existing destination is " + m.group(1);
        return own;
    }
}
