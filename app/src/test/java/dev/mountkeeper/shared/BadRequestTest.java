package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad requests get 400, 403, 404, 405 or 409 with a reason, and change nothing: neither the
 * daemon's status nor the kernel's mount table. Requests from an unprivileged user (uid 65534,
 * through setpriv) are checked against the policy by the socket's peer credentials.
 */
@Privileged
class BadRequestTest {
    @TempDir Path dir;
    Path root, a, src, outside;

    @BeforeEach
    void layout() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        root = Files.createDirectories(dir.resolve("root"));
        a = Files.createDirectories(root.resolve("a"));
        src = Files.createDirectories(dir.resolve("src"));
        outside = Files.createDirectories(dir.resolve("outside"));
    }

    private String policy() {
        return "{\"rules\": [{\"users\": [\"nobody\"], \"targets\": [\"" + root + "\"], \"sources\": [\"" + src
                + "\"], \"types\": [\"tmpfs\", \"bind\", \"proc\"]}]}";
    }

    /** One request as uid 65534 through a tiny standard-library client; "STATUS BODY". */
    private String asNobody(DaemonProcess d, String method, String path, String body) throws Exception {
        String script = String.join("\n", "import http.client, socket, sys",
                "c = http.client.HTTPConnection('x')",
                "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); c.sock = s",
                "c.request(sys.argv[2], sys.argv[3], body=sys.argv[4].encode() or None)",
                "r = c.getresponse(); print(r.status, r.read().decode())");
        Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                script, d.socket.toString(), method, path, body).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void badRequestsAreRefusedWithTheirReasonAndChangeNothing() throws Exception {
        int refused = 0;
        try (HolderProcess h = new HolderProcess(); HolderProcess other = new HolderProcess();
             DaemonProcess d = new DaemonProcess(dir, policy()).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", other.pid(), "tmpfs::" + root.resolve("a")));
            String status = d.ok("GET", "/v1/status", null);
            List<String> mounts = mountsUnder(dir);
            record Case(String method, String path, String body, int code, String says) {}
            String held = "tmpfs::" + a;
            List<Case> cases = List.of(
                    new Case("POST", "/v1/acquire", "{\"context\": \"c\", ", 400, "Malformed request body"),
                    new Case("POST", "/v1/acquire", "{\"context\": \"c\", \"specs\": [\"proc::" + a + "\"], \"mounts\": 1}", 400, "mounts"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "proc:" + a), 400, "expected TYPE:SOURCE:DEST"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "nfs::" + a), 400, "unknown type \\\"nfs\\\""),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a + ":size=0"), 400, "size"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::relative/x"), 400, "absolute"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "dir::" + root.resolve("d")), 400, "makes no mount"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + root.resolve("missing")), 400, "does not exist"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "bind:" + dir + ":" + Files.createDirectories(root.resolve("c"))), 400, "contains its target"),
                    new Case("POST", "/v1/acquire", acquire("", h.pid(), "tmpfs::" + a), 400, "context is empty"),
                    new Case("POST", "/v1/acquire", acquire("c", 999_999_999, "tmpfs::" + a), 400, "not a running process"),
                    new Case("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a + ":ro"), 409, "is mounted as"),
                    new Case("POST", "/v1/acquire", acquire("d", h.pid(), held), 409, "is mounted for context"),
                    new Case("POST", "/v1/acquire", acquire("d", h.pid(), "tmpfs::" + outside, "tmpfs::" + a), 409, "is mounted for"),
                    new Case("POST", "/v1/sweep", "{\"context\": \"c\", \"under\": \"/x\"}", 400, "either a context or a path"),
                    new Case("POST", "/v1/release", "{\"context\": \"c\"}", 400, "either specs or"),
                    new Case("GET", "/v1/acquire", "", 405, "takes POST"),
                    new Case("GET", "/v1/nothing", "", 404, "No such endpoint"),
                    new Case("GET", "/v1/status?x=1", "", 400, "Unknown query parameter"));
            for (Case c : cases) {
                DaemonClient.Reply r = d.call(c.method(), c.path(), c.body());
                assertThat(r.status()).as(c + " -> " + r.body()).isEqualTo(c.code());
                assertThat(r.body()).as(c.toString()).contains(c.says());
                assertThat(d.ok("GET", "/v1/status", null)).as("status after " + c).isEqualTo(status);
                assertThat(mountsUnder(dir)).as("mounts after " + c).isEqualTo(mounts);
                refused++;
            }
            // The same user-facing checks for an unprivileged peer, decided by the policy.
            List<String[]> nobody = List.of(
                    new String[] {"/v1/acquire", acquire("c", 0, "tmpfs::" + outside), "403", "does not allow uid 65534"},
                    new String[] {"/v1/acquire", acquire("c", 0, "sysfs::" + root.resolve("a")), "403", "does not allow uid 65534"},
                    new String[] {"/v1/acquire", acquire("c", 0, "bind:/etc:" + root.resolve("a")), "403", "does not allow the source \\\"/etc\\\""},
                    new String[] {"/v1/acquire", acquire("c", h.pid(), "tmpfs::" + root.resolve("a")), "403", "belongs to uid 0"},
                    new String[] {"/v1/sweep", "{\"under\": \"" + dir + "\"}", "403", "mounted or held by another user"});
            for (String[] c : nobody) {
                String out = asNobody(d, "POST", c[0], c[1]);
                assertThat(out).as(c[1]).startsWith(c[2] + " ").contains(c[3]);
                assertThat(d.ok("GET", "/v1/status", null)).isEqualTo(status);
                assertThat(mountsUnder(dir)).isEqualTo(mounts);
                refused++;
            }
            // What the policy allows works for that user (the holder is its short-lived client: released as it exits).
            Files.setOwner(Files.createDirectories(root.resolve("b")), dir.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByName("nobody")); // the daemon mounts only where its client may write
            assertThat(asNobody(d, "POST", "/v1/acquire", acquire("n", 0, "bind:" + src + ":" + root.resolve("b"))))
                    .startsWith("200 ");
            waitUntil(() -> !unchecked(dir).contains(root.resolve("b").toString()), "the client's reference to go with it");
            d.ok("POST", "/v1/release", releaseAll("c", other.pid()));
            assertThat(mountsUnder(dir)).isEmpty();
        }
        Figures.report("bad requests to the daemon: " + refused + " refused with 400/403/404/405/409 and a reason,"
                + " 0 changes to its status or the mount table");
    }
}
