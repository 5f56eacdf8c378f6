package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP rereads --policy: a good policy decides the next request (uid 1001 refused, then allowed,
 * then refused again); one that does not load (bad JSON, a user that does not exist) leaves the
 * old one in force and says why in one line of the log.
 */
@Privileged
class PolicyReloadTest {
    private static final int A = 1001, SIGHUP = 1;
    @TempDir Path dir;

    private static String allowing(String user, Path root) {
        return "{\"rules\": [{\"users\": [\"" + user + "\"], \"targets\": [\"" + root + "\"], \"types\": [\"tmpfs\"]}]}";
    }

    @Test
    void sighupSwapsInAGoodPolicyAndKeepsTheOldOneOverABadOne() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = ForeignTargetAttackTest.dirOf(dir.resolve("build"), 0, 0755);
        Path a = ForeignTargetAttackTest.dirOf(root.resolve("a"), A, 0755), b = ForeignTargetAttackTest.dirOf(root.resolve("b"), A, 0755);
        int reloads = 0;
        try (HolderProcess h = new HolderProcess(A); DaemonProcess d = new DaemonProcess(dir, allowing("1002", root)).start()) {
            assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a)))
                    .startsWith("403 ").contains("The policy does not allow uid 1001");

            Files.writeString(d.policyFile(), allowing("1001", root));
            d.signal(SIGHUP);
            d.awaitLogLines("Reloaded the policy from \"" + d.policyFile() + "\"", ++reloads);
            assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a))).startsWith("200 ");
            assertThat(mountsUnder(root)).containsExactly(a.toString());

            record Bad(String json, String says) {}
            List<Bad> bad = List.of(new Bad("{\"rules\": [{\"users\": [\"1001\"],\n \"targets\": ", "Invalid policy"),
                    new Bad(allowing("no-such-user-mk", root), "unknown user \"no-such-user-mk\""));
            int kept = 0;
            for (Bad x : bad) {
                Files.writeString(d.policyFile(), x.json());
                d.signal(SIGHUP);
                List<String> lines = d.awaitLogLines("Kept the old policy", ++kept);
                String line = lines.getLast();
                System.out.println("bad policy: " + line);
                assertThat(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z mountkeeper daemon: WARNING: .*").contains("mountkeeper daemon: WARNING: Kept the old policy: Invalid policy \"" + d.policyFile() + "\": ")
                        .contains(x.says());
                // Still the good one: 1001 may mount b.
                assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + b))).startsWith("200 ");
                assertThat(as(A, d.socket, "POST", "/v1/release", release("c", h.pid(), "tmpfs::" + b))).startsWith("200 ");
            }
            assertThat(d.logText().lines().filter(l -> l.contains("Reloaded the policy")).count()).isEqualTo(reloads);

            // And back: refused again, though a stays mounted for the holder that has it.
            Files.writeString(d.policyFile(), allowing("1002", root));
            d.signal(SIGHUP);
            d.awaitLogLines("Reloaded the policy from", ++reloads);
            assertThat(as(A, d.socket, "POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + b))).startsWith("403 ");
            assertThat(mountsUnder(root)).containsExactly(a.toString());
            h.kill();
            waitUntil(() -> unchecked(root).isEmpty(), "a to go with its holder");
            Figures.report("SIGHUP policy reload: " + reloads + " good policies took effect on the next request, "
                    + kept + " bad ones kept the old policy with one log line each");
        }
        assertThat(mountsUnder(root)).isEmpty();
    }
}
