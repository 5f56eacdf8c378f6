package dev.mountkeeper.bb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Evaluates Jsonnet with sjsonnet, a complete Jsonnet implementation for the JVM. */
final class Jsonnet {
    private Jsonnet() {}

    /**
     * Evaluates {@code file}, or {@code source} when file is null (imports relative to
     * {@code directory}), with every entry of {@code extVars} bound for std.extVar; returns the JSON text.
     */
    static String evaluate(String name, Path file, String source, Path directory, Map<String, String> extVars)
            throws ConfigException {
        List<String> args = new ArrayList<>();
        extVars.forEach((k, v) -> {
            args.add("--ext-str");
            args.add(k + "=" + v);
        });
        if (file == null) {
            args.add("--exec");
            args.add(source);
        } else {
            args.add(file.toString());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = sjsonnet.SjsonnetMain.main0(args.toArray(String[]::new), new sjsonnet.DefaultParseCache(),
                    new ByteArrayInputStream(new byte[0]), o, e, os.Path.apply(directory.toAbsolutePath().toString(),
                            os.PathConvertible.StringConvertible$.MODULE$),
                    scala.Option.empty(), scala.Option.empty(), sjsonnet.SjsonnetMain.main0$default$9());
        }
        if (status != 0) {
            // The evaluator's message and its Jsonnet stack, not the JVM's.
            String why = err.toString(StandardCharsets.UTF_8).lines()
                    .takeWhile(l -> !l.startsWith("Caused by"))
                    .filter(l -> !l.matches("\\s+at [a-z].*"))
                    .map(String::strip).collect(java.util.stream.Collectors.joining("\n  "));
            throw new ConfigException("Failed to evaluate " + name + " as Jsonnet: " + (why.isEmpty() ? "status " + status : why));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
