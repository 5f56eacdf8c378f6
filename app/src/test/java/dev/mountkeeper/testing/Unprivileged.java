package dev.mountkeeper.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** The CLI started as uid 65534 (nobody), from a copy of the class path that nobody can read. */
public final class Unprivileged {
    private Unprivileged() {}

    /**
     * The argv of {@code mountkeeper ARGS...} as nobody. The project's classes and picocli are
     * copied under {@code dir} (our class path may be under /root); {@code dir} is made world-readable.
     */
    public static List<String> cli(Path dir, String... args) throws Exception {
        Path setpriv = Tools.require("setpriv (util-linux)", List.of("/usr/bin/setpriv", "/bin/setpriv"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cp = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path src = Path.of(entry), dst = dir.resolve("cp" + n++ + (Files.isDirectory(src) ? "" : ".jar"));
            if (!entry.contains("picocli") && !entry.endsWith("classes") && !entry.contains("mountkeeper-core")) continue;
            copy(src, dst);
            cp.add(dst.toString());
        }
        List<String> argv = new ArrayList<>(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534", "--clear-groups",
                Tools.java(), "--enable-native-access=ALL-UNNAMED", "-cp", String.join(File.pathSeparator, cp),
                "dev.mountkeeper.cli.Main"));
        argv.addAll(List.of(args));
        return argv;
    }

    /** Copies a file, or a directory tree readable by everyone. */
    public static void copy(Path src, Path dst) throws Exception {
        if (!Files.isDirectory(src)) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        try (var walk = Files.walk(src)) {
            for (Path s : walk.toList()) {
                Path d = dst.resolve(src.relativize(s).toString());
                if (Files.isDirectory(s)) Files.createDirectories(d);
                else Files.copy(s, d, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (var walk = Files.walk(dst)) {
            for (Path d : walk.toList()) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(Files.isDirectory(d) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
