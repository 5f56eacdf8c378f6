package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 16 holder processes, 1,000 or more acquire/release cycles each on overlapping targets, through
 * the real BitBake class; holders SIGKILLed at random, and the daemon SIGKILLed and restarted 50
 * times meanwhile. Afterwards no reference and no mount remains, and no holder ever found what it
 * held unmounted.
 */
@Privileged
class SharedStressTest {
    @TempDir Path dir;

    @Test
    void holdersAndTheDaemonKilledAtRandomLeaveNothingAndLoseNothing() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path state = Files.createDirectories(dir.resolve("state"));
        // The state lives on a tmpfs, as under /run in production.
        MountSyscalls.mount("state", state.toString(), "tmpfs", 0, "size=16m");
        try {
            DaemonProcess d = new DaemonProcess(dir, null);
            String argv = d.argv().stream().map(a -> "\"" + a.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                    .collect(Collectors.joining(",", "[", "]"));
            PythonTests.Result r = PythonTests.run(List.of("stress.py", "--socket", d.socket.toString(), "--dir",
                    work.toString(), "--workers", "16", "--cycles", "1000", "--daemon", argv, "--daemon-log",
                    d.log.toString(), "--daemon-kills", "50"), Map.of(), 900);
            assertThat(r.exit()).as(r.output()).isZero();
            assertThat(r.output()).contains("0 times a holder saw its mount missing, 0 failed requests, 0 references and 0 mounts left")
                    .contains("50 daemon SIGKILLs");
        } finally {
            MountSyscalls.umount2(state.toString(), 0);
        }
    }
}
