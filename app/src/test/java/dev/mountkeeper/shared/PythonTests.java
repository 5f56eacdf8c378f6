package dev.mountkeeper.shared;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the BitBake integration's Python programs, which talk to a real daemon. */
final class PythonTests {
    private PythonTests() {}

    static final Path TESTS = Path.of("integrations/bitbake/tests").toAbsolutePath();

    record Result(int exit, String output) {}

    static Result run(List<String> args, Map<String, String> env, int timeoutSeconds) throws IOException, InterruptedException {
        Path python = Tools.require("python3", List.of("/usr/bin/python3", "/usr/local/bin/python3"));
        List<String> cmd = new java.util.ArrayList<>(List.of(python.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(TESTS.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        text.lines().filter(l -> !l.startsWith("FIGURE ")).forEach(System.out::println);
        text.lines().filter(l -> l.startsWith("FIGURE ")).forEach(l -> Figures.report(l.substring(7)));
        return new Result(p.exitValue(), text);
    }
}
