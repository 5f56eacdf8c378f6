package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.AutoComplete;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/** What `./dev dist` installs (the -Pdocs build generates both the same way), made from the command model. */
class CompletionAndManPagesTest {
    @Test
    void bashCompletesCommandsAndTheirOptions(@TempDir Path tmp) throws Exception {
        Path script = tmp.resolve("mountkeeper");
        Files.writeString(script, AutoComplete.bash("mountkeeper", Main.commandLine()));
        assertThat(complete(script, "mountkeeper", "ru")).containsExactly("run");
        assertThat(complete(script, "mountkeeper", "run", "--ro-b")).contains("--ro-bind", "--ro-bind-try");
        assertThat(complete(script, "mountkeeper", "umount", "--l")).containsExactly("--lazy");
    }

    /** COMPREPLY for the last word, as bash's programmable completion would call the function. */
    private static List<String> complete(Path script, String... words) throws Exception {
        String array = String.join(" ", words);
        Process p = new ProcessBuilder("bash", "-c", "source \"$0\" 2>/dev/null; COMP_WORDS=(" + array + "); COMP_CWORD="
                + (words.length - 1) + "; COMP_LINE='" + array + "'; COMP_POINT=${#COMP_LINE}; _complete_mountkeeper 2>/dev/null;"
                + " printf '%s\\n' \"${COMPREPLY[@]}\"", script.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void everyCommandHasAManPage(@TempDir Path tmp) throws Exception {
        int code = ManPageGenerator.generateManPage(tmp.toFile(), null, new boolean[] {false}, false,
                Main.commandLine().getCommandSpec());
        assertThat(code).isZero();
        List<String> pages = Main.commandLine().getSubcommands().keySet().stream().map(c -> "mountkeeper-" + c + ".adoc").toList();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsAll(pages).contains("mountkeeper.adoc");
        }
        assertThat(Files.readString(tmp.resolve("mountkeeper-run.adoc"))).contains("--ro-bind").contains("--proc");
        StringWriter page = new StringWriter();
        ManPageGenerator.writeSingleManPage(new PrintWriter(page), Main.commandLine().getSubcommands().get("umount").getCommandSpec());
        assertThat(page.toString()).contains(":doctype: manpage").contains("--lazy");
    }
}
