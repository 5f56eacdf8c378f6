package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security 25: a client cannot make the daemon's mounts propagate to the host. The "host" is a
 * shared mount in the test's own namespace, allowed as a bind source (as the documented policy
 * allows /dev); a client asks for "shared" on a bind of it, or takes the bind it may have and
 * mounts below it, and the host's mounts must not change. A rule that grants "shared" by name
 * does get a shared copy, whose mounts then do reach the host.
 */
@Privileged
class PropagationAttackTest {
    private static final int A = 1001, B = 1002;
    @TempDir Path dir;

    private static String propagation(Path p) throws Exception {
        return MountTable.of(KernelFeatures.detect()).read().stream().filter(e -> e.mountPoint().equals(p.toString()))
                .map(MountEntry::propagation).reduce((x, y) -> y).orElseThrow();
    }

    private static Path owned(Path p, int uid) throws Exception {
        Files.setAttribute(Files.createDirectories(p), "unix:uid", uid);
        return p;
    }

    @Test
    void clientsCannotPropagateToTheHostUnlessGrantedByName() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path host = Files.createDirectories(dir.resolve("host")), root = Files.createDirectories(dir.resolve("root"));
        Path ta = owned(root.resolve("a"), A), tb = owned(root.resolve("b"), B);
        String policy = "{\"rules\": ["
                + "{\"users\": [\"" + A + "\"], \"targets\": [\"" + root + "\"], \"sources\": [\"" + host + "\"],"
                + " \"types\": [\"bind\", \"rbind\", \"tmpfs\"]},"
                + "{\"users\": [\"" + B + "\"], \"targets\": [\"" + root + "\"], \"sources\": [\"" + host + "\"],"
                + " \"types\": [\"bind\", \"tmpfs\"], \"options\": [\"shared\"]}]}";
        MountSyscalls.mount("host", host.toString(), "tmpfs", 0, "size=1m,mode=0755");
        int attacks = 0, changed = 0;
        try {
            MountSyscalls.mount(null, host.toString(), null, MountSyscalls.MS_SHARED, null);
            owned(host.resolve("sub"), A);
            List<String> hostMounts = mountsUnder(host);
            try (HolderProcess ha = new HolderProcess(A); DaemonProcess d = new DaemonProcess(dir, policy).start()) {
                // Asking for a shared copy, of a bind or of a tmpfs, is refused by name.
                for (String spec : List.of("bind:" + host + ":" + ta + ":shared", "rbind:" + host + ":" + ta + ":shared",
                        "bind:" + host + ":" + ta + ":recursive,shared", "tmpfs::" + ta + ":shared")) {
                    String out = as(A, d.socket, "POST", "/v1/acquire", acquire("c", ha.pid(), spec));
                    assertThat(out).as(spec).startsWith("403 ").contains("with option \\\"shared\\\"");
                    assertThat(mountsUnder(root)).as(spec).isEmpty();
                    attacks++;
                    if (!mountsUnder(host).equals(hostMounts)) changed++;
                }
                // The binds it may have are private or slave copies: what it mounts below them stays there.
                for (String type : List.of("bind", "rbind")) {
                    assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", ha.pid(), type + ":" + host + ":" + ta)))
                            .as(type).startsWith("200 ");
                    assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", ha.pid(), "tmpfs::" + ta.resolve("sub"))))
                            .as(type).startsWith("200 ");
                    assertThat(propagation(ta)).as(type).isIn("private", "master:" + propagation(host).substring(7));
                    assertThat(mountsUnder(root)).containsExactly(ta.toString(), ta.resolve("sub").toString());
                    attacks++;
                    if (!mountsUnder(host).equals(hostMounts)) changed++;
                    assertThat(as(A, d.socket, "POST", "/v1/release", releaseAll("c", ha.pid()))).startsWith("200 ");
                    assertThat(mountsUnder(root)).isEmpty();
                }
                // Granted by name, a shared copy is what the policy's author asked for: mounts below it reach the host.
                owned(host.resolve("sub-b"), B);
                try (HolderProcess hb = new HolderProcess(B)) {
                    assertThat(as(B, d.socket, "POST", "/v1/acquire", acquire("g", hb.pid(), "bind:" + host + ":" + tb + ":shared")))
                            .startsWith("200 ");
                    assertThat(as(B, d.socket, "POST", "/v1/acquire", acquire("g", hb.pid(), "tmpfs::" + tb.resolve("sub-b"))))
                            .startsWith("200 ");
                    assertThat(propagation(tb)).startsWith("shared:");
                    assertThat(mountsUnder(host)).contains(host.resolve("sub-b").toString());
                    assertThat(as(B, d.socket, "POST", "/v1/release", releaseAll("g", hb.pid()))).startsWith("200 ");
                }
                assertThat(mountsUnder(root)).isEmpty();
                assertThat(mountsUnder(host)).isEqualTo(hostMounts);
            }
        } finally {
            MountSyscalls.umount2(host.toString(), MountSyscalls.MNT_DETACH);
        }
        assertThat(changed).isZero();
        Figures.report("daemon propagation: " + attacks + " client attempts to reach the host, host mounts changed, "
                + changed + " (shared only where a rule grants it by name)");
    }
}
