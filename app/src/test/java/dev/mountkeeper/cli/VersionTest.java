package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.shared.DaemonProcess;
import dev.mountkeeper.shared.proto.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every --version and the daemon's /v1/version say the version in the root pom.xml, the one place it is written (the modules inherit it). */
class VersionTest {
    static String pomVersion() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>mountkeeper-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertThat(m.find()).as("the project's version in pom.xml").isTrue();
        return m.group(1);
    }

    @Test
    void everyCommandPrintsTheProjectsVersion() throws Exception {
        String want = "mountkeeper " + pomVersion() + System.lineSeparator();
        for (String c : new String[] {"run", "mounts", "mount", "umount", "bb-runner", "daemon", "acquire", "release",
                "status", "sweep"}) {
            CliTest.Run r = CliTest.run(c, "--version");
            assertThat(r.code()).as(c).isZero();
            assertThat(r.out()).as(c).isEqualTo(want);
        }
        assertThat(CliTest.run("--version").out()).isEqualTo(want);
    }

    @Test
    void theDaemonSaysTheProjectsVersion(@TempDir Path dir) throws Exception {
        try (DaemonProcess d = new DaemonProcess(dir, null).start()) {
            Version v = DaemonProcess.parse(d.ok("GET", "/v1/version", null), Version.newBuilder()).build();
            assertThat(v.getVersion()).isEqualTo(pomVersion());
            assertThat(v.getApi()).isEqualTo("v1");
        }
    }
}
