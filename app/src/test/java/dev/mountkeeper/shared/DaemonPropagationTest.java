package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Daemon mounts are private; an rbind copy is a slave: mount events from its source arrive, none go back. */
@Privileged
class DaemonPropagationTest {
    @TempDir Path dir;

    private static String propagation(Path p) throws Exception {
        return MountTable.of(KernelFeatures.detect()).read().stream().filter(e -> e.mountPoint().equals(p.toString()))
                .map(MountEntry::propagation).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void privateByDefaultAndRbindIsASlave() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path r = Files.createDirectories(dir.resolve("root/r")), b = Files.createDirectories(dir.resolve("root/b"));
        MountSyscalls.mount("shared-src", src.toString(), "tmpfs", 0, "size=1m");
        try {
            MountSyscalls.mount(null, src.toString(), null, MountSyscalls.MS_SHARED, null);
            Files.createDirectories(src.resolve("late"));
            try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, null).start()) {
                d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "rbind:" + src + ":" + r, "bind:" + src + ":" + b));
                assertThat(propagation(r)).startsWith("master:");
                assertThat(propagation(b)).isEqualTo("private");
                // A mount made in the source later shows up in the slave copy only.
                MountSyscalls.mount("late", src.resolve("late").toString(), "tmpfs", 0, "size=1m");
                assertThat(mountsUnder(dir.resolve("root"))).contains(r.resolve("late").toString())
                        .doesNotContain(b.resolve("late").toString());
                MountSyscalls.umount2(src.resolve("late").toString(), 0);
                // And nothing made in the copy goes back to the source.
                MountSyscalls.mount("back", r.resolve("late").toString(), "tmpfs", 0, "size=1m");
                assertThat(mountsUnder(src)).containsExactly(src.toString());
                MountSyscalls.umount2(r.resolve("late").toString(), 0);
                d.ok("POST", "/v1/release", releaseAll("c", h.pid()));
                assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
            }
        } finally {
            MountSyscalls.umount2(src.toString(), MountSyscalls.MNT_DETACH);
        }
    }
}
