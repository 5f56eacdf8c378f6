package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a failed connect reads. Root is never refused a socket, so EACCES is shown with the
 * failure Netty gives a user the socket's mode shuts out (the CLI test covers ENOENT and
 * ECONNREFUSED for real).
 */
class DaemonClientUnreachableTest {
    @TempDir Path dir;

    @Test
    void aSocketWeMayNotUseIsNamedAndNotWaitedFor() throws IOException {
        Path sock = Files.createFile(dir.resolve("d.sock"));
        var why = DaemonClient.Unreachable.of(sock, new IOException("connect(..) failed with error(-13): Permission denied"));
        assertThat(why.mayWait()).isFalse();
        assertThat(why.reason()).startsWith("permission denied (EACCES) for uid ")
                .endsWith("; the socket unit's SocketMode and SocketGroup decide who may connect")
                .doesNotContain("connect(..)");
    }

    @Test
    void aMissingSocketMayBeWaitedFor() {
        var why = DaemonClient.Unreachable.of(dir.resolve("none.sock"), new IOException((String) null));
        assertThat(why.mayWait()).isTrue();
        assertThat(why.reason()).startsWith("no such socket (ENOENT); is the daemon running?").doesNotContain("null");
    }
}
