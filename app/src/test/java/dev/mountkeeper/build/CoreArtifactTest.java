package dev.mountkeeper.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import dev.mountkeeper.testing.Tools;
import dev.mountkeeper.testing.Unprivileged;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mountkeeper-core as a Java user gets it: installed into the local Maven repository as `mvn
 * install` would (the same artifacts, from this build), then depended on by a separate project,
 * docs/examples/core-user, whose class path is that one jar and nothing else, and whose program
 * runs a sandbox.
 */
@Privileged
class CoreArtifactTest {
    @TempDir Path tmp;

    @Test
    void aSeparateProjectBuildsOnTheCoreAloneAndRunsASandbox() throws Exception {
        Path mvn = Tools.require("mvn (Maven)", List.of("/usr/bin/mvn", "/usr/local/bin/mvn"));
        Path core = Path.of("core/target/mountkeeper-core.jar").toAbsolutePath();
        assertThat(core).exists();
        Path jar = Files.copy(core, tmp.resolve("mountkeeper-core.jar"));
        maven(tmp, mvn, "install:install-file", "-Dfile=" + Path.of("pom.xml").toAbsolutePath(),
                "-DpomFile=" + Path.of("pom.xml").toAbsolutePath(), "-Dpackaging=pom");
        maven(tmp, mvn, "install:install-file", "-Dfile=" + jar, "-DpomFile=" + Path.of("core/pom.xml").toAbsolutePath());
        Path project = tmp.resolve("core-user");
        Unprivileged.copy(Path.of("docs/examples/core-user"), project);
        maven(project, mvn, "package", "dependency:build-classpath", "-Dmdep.outputFile=target/cp.txt");
        List<String> cp = List.of(Files.readString(project.resolve("target/cp.txt")).strip().split(File.pathSeparator));
        assertThat(cp).hasSize(1);
        assertThat(Path.of(cp.getFirst()).getFileName().toString()).isEqualTo("mountkeeper-core-0.1.0-SNAPSHOT.jar");
        Process p = new ProcessBuilder(Tools.java(), "--enable-native-access=ALL-UNNAMED", "-cp",
                project.resolve("target/classes") + File.pathSeparator + cp.getFirst(), "example.Sandboxed",
                "sh", "-c", "echo hello from pid $$")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(out).as(out).isEqualTo("hello from pid 2\n");
        assertThat(p.exitValue()).isZero();
    }

    private static void maven(Path dir, Path mvn, String... goals) throws Exception {
        List<String> argv = new ArrayList<>(List.of(mvn.toString(), "-B", "-q", "-ntp"));
        argv.addAll(List.of(goals));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("MAVEN_OPTS", "--sun-misc-unsafe-memory-access=allow");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", argv) + "\n" + out).isZero();
    }
}
