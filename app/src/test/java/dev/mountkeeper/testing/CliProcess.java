package dev.mountkeeper.testing;

import java.util.ArrayList;
import java.util.List;

/** The command line of a JVM that runs mountkeeper's CLI from the test class path, as a separate process. */
public final class CliProcess {
    private CliProcess() {}

    public static List<String> argv(String... args) {
        List<String> a = new ArrayList<>(List.of(Tools.java(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "dev.mountkeeper.cli.Main"));
        a.addAll(List.of(args));
        return a;
    }

    /** The bubblewrap-like options of a sandbox with the host's /usr and /etc read-only, /proc, /dev and /tmp. */
    public static final List<String> HOST_TOOLS = List.of("--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--setenv", "PATH", "/usr/bin:/bin");
}
