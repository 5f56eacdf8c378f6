package dev.mountkeeper.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The README's Java example, run as written: a single-file program launched by java with the library on its class path. */
@Privileged
class ApiExampleTest {
    @Test
    void theDocumentedExampleCompilesAndRunsACProgram() throws Exception {
        Tools.require("cc (gcc)", List.of("/usr/bin/cc"));
        Path example = Path.of("docs/examples/api/HelloSandbox.java").toAbsolutePath();
        Process p = new ProcessBuilder(Tools.java(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), example.toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(out).as(out).startsWith("hello from a sandbox\nexit 0 in ");
        assertThat(p.exitValue()).isZero();
    }
}
