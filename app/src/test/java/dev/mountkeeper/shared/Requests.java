package dev.mountkeeper.shared;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** JSON bodies for the daemon's API, and what the kernel shows. */
public final class Requests {
    private Requests() {}

    public static String acquire(String context, long holder, String... specs) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"specs\": " + list(specs) + "}";
    }

    public static String release(String context, long holder, String... specs) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"specs\": " + list(specs) + "}";
    }

    public static String releaseAll(String context, long holder) {
        return "{\"context\": \"" + context + "\", \"holder\": {\"pid\": " + holder + "}, \"all\": true}";
    }

    private static String list(String... specs) {
        return Arrays.stream(specs).map(s -> "\"" + s + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    /** The standard-library client scripts use: {@code call(method, path, body)} gives (status, body). */
    private static final String CLIENT = String.join("\n", "import http.client, json, os, socket, sys",
            "def call(method, path, body=''):",
            "    c = http.client.HTTPConnection('x')",
            "    s = socket.socket(socket.AF_UNIX); s.connect(os.environ['SOCK']); c.sock = s",
            "    c.request(method, path, body=body.encode() or None)",
            "    r = c.getresponse(); return r.status, r.read().decode()", "");

    /**
     * Runs a Python script as {@code uid} (group {@code uid}, no other groups) with {@code call}
     * from {@link #CLIENT} defined and $SOCK set; its output, stripped.
     */
    static String runAs(int uid, Path socket, String script, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "/usr/bin/python3", "-c", CLIENT + script));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("SOCK", socket.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) throw new AssertionError("script as uid " + uid + " failed: " + out);
        return out;
    }

    /** One request as {@code uid}; "STATUS BODY". The holder pid 0 is that short-lived client. */
    static String as(int uid, Path socket, String method, String path, String body) throws Exception {
        return runAs(uid, socket, "s, b = call(sys.argv[1], sys.argv[2], sys.argv[3]); print(s, b)", method, path, body);
    }

    /** Mount points at or below {@code dir}, from the kernel's table. */
    public static List<String> mountsUnder(Path dir) throws IOException {
        return MountTable.below(MountTable.of(KernelFeatures.detect()).read(), dir.toString()).stream()
                .map(MountEntry::mountPoint).sorted().toList();
    }

    public static long mountIdAt(Path p) throws IOException {
        return MountTable.of(KernelFeatures.detect()).read().stream().filter(e -> e.mountPoint().equals(p.toString()))
                .mapToLong(MountEntry::id).max().orElse(0);
    }

    public static void waitUntil(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        for (int i = 0; i < 1500 && !cond.getAsBoolean(); i++) Thread.sleep(10);
        if (!cond.getAsBoolean()) throw new AssertionError("timed out waiting for " + what);
    }

    public static List<String> unchecked(Path dir) {
        try {
            return mountsUnder(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
