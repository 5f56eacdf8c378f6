package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real mountkeeper.bbclass, run by a stand-in for BitBake with its task order and failure
 * semantics (prefuncs, task, postfuncs skipped on failure, forked tasks that fail, get SIGTERM or
 * SIGKILL, concurrent tasks, multiconfig sweeps) against a real daemon.
 */
@Privileged
class BitBakeClassTest {
    @TempDir Path dir;

    @Test
    void theClassWorksWithBitBakesTaskSemantics() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        try (DaemonProcess d = new DaemonProcess(dir, null).start()) {
            PythonTests.Result r = PythonTests.run(List.of("-m", "unittest", "-v", "test_bbclass"),
                    Map.of("MOUNTKEEPER_SOCKET", d.socket.toString(), "MK_TEST_DIR", work.toString()), 300);
            assertThat(r.exit()).as(r.output() + "\n--- daemon log ---\n" + d.logText()).isZero();
            assertThat(r.output()).contains("Ran 19 tests").contains("OK");
            assertThat(d.status().getContextsList()).isEmpty();
        }
    }
}
