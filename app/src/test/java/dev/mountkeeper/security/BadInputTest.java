package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.cli.Main;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Security tests 19 and 20 through the CLI: each bad spec list exits 2 with a message naming the
 * input and the reason, and afterwards nothing is mounted and nothing was created in the root.
 * A good spec before the bad one proves that "nothing" includes undoing it.
 */
@Privileged
class BadInputTest {
    @TempDir static Path tmp;

    static Stream<Arguments> cases() throws Exception {
        Path file = Files.writeString(Files.createDirectories(tmp).resolve("a-file"), "x");
        Path dir = Files.createDirectories(tmp.resolve("a-dir"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("existing-dir"));
        List<Arguments> out = new ArrayList<>();
        for (String bad : List.of("bogus::/x", "proc::/proc:nosuchopt", "bind:rel:/x", "bind:/a:/x/../y",
                "tmpfs::/t:size=-1", "proc::", "bind:/a\0b:/x", "tmpfs::/" + "n".repeat(300))) {
            out.add(Arguments.of("19: " + bad.replace("\0", "\\0").substring(0, Math.min(bad.length(), 30)),
                    List.of("tmpfs::/good", bad), "Invalid mount spec", false));
        }
        out.add(Arguments.of("19: bind source contains destination", List.of("tmpfs::/good", "bind:" + tmp + ":/inner"),
                "contains its destination", false));
        out.add(Arguments.of("20: nonexistent source", List.of("tmpfs::/good", "bind:/nonexistent/source:/x"),
                "Failed to open bind source \"/nonexistent/source\"", false));
        out.add(Arguments.of("20: missing mountpoint, no create", List.of("tmpfs::/existing-dir", "tmpfs::/missing/dir"),
                "\"" + root + "/missing/dir\" does not exist", true));
        out.add(Arguments.of("20: file source onto a directory", List.of("tmpfs::/good", "bind:" + file + ":/existing-dir"),
                "is a directory, but the source is a file", false));
        out.add(Arguments.of("20: directory source onto a file", List.of("tmpfs::/good", "bind:" + dir + ":/good/f",
                "bind:" + dir + ":/a-new-file"), "not a directory", false));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithTheReasonAndNothingLeft(String name, List<String> specs, String reason, boolean noCreate) throws Exception {
        Path root = tmp.resolve("root");
        if (name.contains("directory source onto a file")) Files.writeString(root.resolve("a-new-file"), "");
        List<String> before;
        try (var s = Files.walk(root)) {
            before = s.map(Path::toString).sorted().toList();
        }
        List<String> args = new ArrayList<>(List.of("mount", "--root", root.toString()));
        if (noCreate) args.add("--no-create");
        args.addAll(specs);
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
                .execute(args.toArray(String[]::new));
        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString()).contains(reason);
        assertThat(Kernel.mountsBelow(root.toString())).isEmpty();
        try (var s = Files.walk(root)) {
            assertThat(s.map(Path::toString).sorted().toList()).as("nothing created or left half-made").isEqualTo(before);
        }
        if (name.contains("directory source onto a file")) Files.delete(root.resolve("a-new-file"));
        Figures.report("security " + name + ": exit 2, 0 mounts left, 0 files left");
    }
}
