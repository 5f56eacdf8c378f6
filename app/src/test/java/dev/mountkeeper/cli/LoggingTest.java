package dev.mountkeeper.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoggingTest {
    @AfterEach
    void restore() throws Exception {
        java.util.logging.LogManager.getLogManager().readConfiguration();
    }

    @Test
    void aLineHasATimestampAndALevel() {
        LogRecord r = new LogRecord(Level.WARNING, "Kept the old policy:\nwhy");
        r.setInstant(java.time.Instant.ofEpochMilli(1796246703123L));
        assertThat(new Logging.LineFormat("daemon", false).format(r))
                .isEqualTo("2026-12-02T21:25:03.123Z mountkeeper daemon: WARNING: Kept the old policy: why\n");
    }

    @Test
    void toTheJournalItIsThePriorityInstead() {
        assertThat(new Logging.LineFormat("bb-runner", true).format(new LogRecord(Level.SEVERE, "x")))
                .isEqualTo("<3>mountkeeper bb-runner: ERROR: x\n");
        assertThat(new Logging.LineFormat("daemon", true).format(new LogRecord(Level.INFO, "x"))).startsWith("<6>");
        assertThat(new Logging.LineFormat("daemon", true).format(new LogRecord(Level.FINE, "x"))).isEqualTo("<7>mountkeeper daemon: DEBUG: x\n");
    }

    @Test
    void theJournalIsOnlyTheStreamJournalStreamNames() throws Exception {
        Path err = Path.of("/proc/self/fd/2");
        String ours = Files.getAttribute(err, "unix:dev") + ":" + Files.getAttribute(err, "unix:ino");
        assertThat(Logging.isJournal(ours)).isTrue();
        assertThat(Logging.isJournal("1:2")).isFalse();
        assertThat(Logging.isJournal(null)).isFalse();
        assertThat(Logging.isJournal("x")).isFalse();
    }

    @Test
    void librariesSpeakOnlyAtDebug() {
        Logging.install("daemon", Level.INFO, null);
        assertThat(Logger.getLogger("io.netty.bootstrap.Bootstrap").isLoggable(Level.WARNING)).isFalse();
        assertThat(Logger.getLogger("mountkeeper.daemon").isLoggable(Level.INFO)).isTrue();
        assertThat(Logger.getLogger("mountkeeper.daemon").isLoggable(Level.FINE)).isFalse();
        Logging.install("daemon", Level.FINE, null);
        assertThat(Logger.getLogger("io.netty.bootstrap.Bootstrap").isLoggable(Level.WARNING)).isTrue();
        assertThat(Logger.getLogger("io.grpc.netty.NettyServerHandler").isLoggable(Level.FINE)).isFalse();
    }

    @Test
    void aBadLevelIsOneLine() {
        CliTest.Run r = CliTest.run("daemon", "--log-level", "loud", "--socket", "/nonexistent/s");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("mountkeeper daemon: ").contains("--log-level").contains("loud")
                .contains("error, warning, info, debug").contains("Try 'mountkeeper daemon --help'");
    }
}
