package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ForeignTargetAttackTest.dirOf;
import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A procfs the daemon mounts for a client shows no more than the host's /proc: its hidepid holds. */
@Privileged
class DaemonProcfsTest {
    @TempDir Path dir;

    @Test
    void theHostsHidepidCarriesOver() throws Exception {
        assertThat(HostProc.params(List.of("22 27 0:21 / /proc rw,relatime - proc proc rw,hidepid=invisible,gid=5",
                "30 22 0:30 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw")))
                .containsExactly(new String[] {"hidepid", "invisible"}, new String[] {"gid", "5"});
        dirOf(dir, 0, 0755);
        Path target = dirOf(dir.resolve("build/a/proc"), 1001, 0755);
        dirOf(dir.resolve("build"), 0, 0755);
        // The test's own mount namespace stands for the host: its /proc hides other users' processes.
        MountSyscalls.mount("proc", "/proc", "proc", MountSyscalls.MS_NOSUID | MountSyscalls.MS_NODEV, "hidepid=invisible");
        try (HolderProcess h = new HolderProcess(1001);
             DaemonProcess d = new DaemonProcess(dir, "{\"rules\": [{\"users\": [\"1001\"], \"targets\": [\"" + dir.resolve("build")
                     + "\"], \"types\": [\"proc\"]}]}").start()) {
            assertThat(as(1001, d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "proc::" + target))).startsWith("200 ");
            // The client sees its own processes there, and not the daemon's (root's).
            List<String> seen = List.of(runAs(1001, d.socket, "import os; print(' '.join(p for p in os.listdir(sys.argv[1]) if p.isdigit()))",
                    target.toString()).split(" "));
            assertThat(seen).contains(Long.toString(h.pid())).doesNotContain(Long.toString(ProcessHandle.current().pid()));
            assertThat(as(1001, d.socket, "POST", "/v1/release", releaseAll("c", h.pid()))).startsWith("200 ");
        } finally {
            MountSyscalls.umount2("/proc", MountSyscalls.MNT_DETACH);
        }
        assertThat(mountsUnder(dir)).isEmpty();
    }
}
