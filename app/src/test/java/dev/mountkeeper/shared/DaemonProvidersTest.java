package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provider specs through the shared-mount daemon: staged under its state directory, counted like any mount. */
@Privileged
class DaemonProvidersTest {
    @TempDir Path dir;

    @Test
    void anOverlayIsSharedCountedAndGoneWithItsLastHolder() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path lower = Files.createDirectories(dir.resolve("lower"));
        Files.writeString(lower.resolve("f"), "lower\n");
        Path target = Files.createDirectories(dir.resolve("root/tc"));
        String spec = "overlay:" + lower + ":" + target;
        String policy = "{\"rules\": [{\"users\": [\"nobody\"], \"targets\": [\"" + dir.resolve("root") + "\"],"
                + " \"sources\": [\"" + lower + "\"], \"types\": [\"tmpfs\"]}]}";
        try (HolderProcess a = new HolderProcess(); HolderProcess b = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, policy).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", a.pid(), spec));
            d.ok("POST", "/v1/acquire", acquire("c", b.pid(), spec));
            Files.writeString(target.resolve("f"), "upper\n");
            assertThat(Files.readString(lower.resolve("f"))).isEqualTo("lower\n");
            assertThat(d.status().getContexts(0).getTargets(0).getMounts(0)).startsWith("overlay on " + target + " type overlay");
            d.ok("POST", "/v1/release", releaseAll("c", a.pid()));
            assertThat(Files.readString(target.resolve("f"))).isEqualTo("upper\n");
            b.kill();
            waitUntil(() -> !unchecked(dir).contains(target.toString()), "the overlay to go with its last holder");
            assertThat(Files.readString(lower.resolve("f"))).isEqualTo("lower\n");
            // A provider's failure is the request's, with the provider's reason; nothing stays mounted or staged.
            DaemonClient.Reply r = d.call("POST", "/v1/acquire", acquire("c", a.pid(), "image:/nonexistent:" + target));
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(r.body()).contains("Provider \\\"image\\\"").contains("cannot open \\\"/nonexistent\\\"");
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
            try (var staged = Files.list(d.state.resolve("staging"))) {
                assertThat(staged).isEmpty();
            }
        }
        assertThat(mountsUnder(dir)).isEmpty();
    }
}
