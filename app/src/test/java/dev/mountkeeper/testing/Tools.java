package dev.mountkeeper.testing;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** Real tools the acceptance tests need. A missing one is said loudly; under CI=true it fails the test. */
public final class Tools {
    private Tools() {}

    public static void missing(String tool, String why) {
        String message = "ACCEPTANCE TOOL MISSING: " + tool + " (" + why + ")";
        System.err.println(message);
        if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(message + "; under CI=true this is a failure");
        Assumptions.abort(message);
    }

    /** The first of {@code candidates} that exists, else the test stops (fails under CI). */
    public static Path require(String tool, List<String> candidates) {
        for (String c : candidates) if (Files.isExecutable(Path.of(c))) return Path.of(c);
        missing(tool, "none of " + candidates + " exists");
        return null;
    }

    /** The output of a host command, or null if it cannot run. */
    public static String output(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The java that runs mountkeeper in a separate process: the JDK the tests run on. */
    public static String java() {
        return System.getenv().getOrDefault("MOUNTKEEPER_TEST_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * setpriv's arguments that start a program with every capability of our bounding set in its
     * inheritable and ambient sets (setpriv cannot raise the others): a runner as some container
     * engines, capsh or pam_cap start it.
     */
    public static List<String> withInheritableCapabilities() {
        Path setpriv = require("setpriv (util-linux)", List.of("/usr/bin/setpriv", "/bin/setpriv"));
        try {
            String bnd = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("CapBnd:"))
                    .findFirst().orElseThrow().split("\\s+")[1];
            long mask = Long.parseUnsignedLong(bnd, 16);
            List<String> caps = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) if ((mask & (1L << i)) != 0) caps.add("+cap_" + i);
            String list = String.join(",", caps);
            return List.of(setpriv.toString(), "--inh-caps=" + list, "--ambient-caps=" + list, "--");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
