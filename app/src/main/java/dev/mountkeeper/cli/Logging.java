package dev.mountkeeper.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import picocli.CommandLine.Option;

/**
 * The long-running commands' log (daemon, bb-runner): one line per record on standard error, with a
 * timestamp and a level, or with journald's {@code <N>} priority instead of the timestamp when
 * standard error is the journal (journald stamps lines itself). Every System.Logger and
 * java.util.logging record goes through it, the libraries' too.
 */
final class Logging {
    /** A picocli mixin: {@code --log-level}. */
    static final class Options {
        @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
                description = "error, warning, info or debug (default info); the libraries' own warnings show only at debug.")
        LogLevel level;

        void install(String command) {
            Logging.install(command, level.jul, System.getenv("JOURNAL_STREAM"));
        }
    }

    /** Lower case, as the flag is written. */
    enum LogLevel {
        error(Level.SEVERE), warning(Level.WARNING), info(Level.INFO), debug(Level.FINE);

        final Level jul;

        LogLevel(Level jul) { this.jul = jul; }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    private Logging() {}

    static void install(String command, Level level, String journalStream) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        ConsoleHandler h = new ConsoleHandler(); // standard error
        h.setLevel(level);
        h.setFormatter(new LineFormat(command, isJournal(journalStream)));
        root.addHandler(h);
        // gRPC's and Netty's per-connection warnings say nothing an operator can act on.
        Level libraries = level.intValue() <= Level.FINE.intValue() ? Level.WARNING : Level.SEVERE;
        for (String name : new String[] {"io.grpc", "io.netty"}) Logger.getLogger(name).setLevel(libraries);
    }

    /** JOURNAL_STREAM is "DEV:INODE" of the journal's stream; it counts only if fd 2 is still that stream. */
    static boolean isJournal(String journalStream) {
        if (journalStream == null || !journalStream.matches("\\d+:\\d+")) return false;
        try {
            Path err = Path.of("/proc/self/fd/2");
            long dev = (Long) Files.getAttribute(err, "unix:dev"), ino = (Long) Files.getAttribute(err, "unix:ino");
            return journalStream.equals(dev + ":" + ino);
        } catch (IOException | UnsupportedOperationException | ClassCastException e) {
            return false;
        }
    }

    /** {@code 2026-12-02T21:15:03.123Z mountkeeper daemon: WARNING: message}, or {@code <4>mountkeeper daemon: WARNING: message}. */
    static final class LineFormat extends Formatter {
        private final String command;
        private final boolean journal;

        LineFormat(String command, boolean journal) {
            this.command = command;
            this.journal = journal;
        }

        @Override
        public String format(LogRecord r) {
            String message = formatMessage(r);
            if (r.getThrown() != null) message += (message.isEmpty() ? "" : ": ") + r.getThrown();
            String line = "mountkeeper " + command + ": " + name(r.getLevel()) + ": " + message.replace('\n', ' ');
            return (journal ? "<" + priority(r.getLevel()) + ">" : TIME.format(Instant.ofEpochMilli(r.getMillis())) + " ") + line + "\n";
        }

        private static String name(Level l) {
            int v = l.intValue();
            return v >= Level.SEVERE.intValue() ? "ERROR" : v >= Level.WARNING.intValue() ? "WARNING"
                    : v >= Level.INFO.intValue() ? "INFO" : "DEBUG";
        }

        /** syslog(3) priorities, as sd-daemon(3) reads them: err 3, warning 4, info 6, debug 7. */
        static int priority(Level l) {
            int v = l.intValue();
            return v >= Level.SEVERE.intValue() ? 3 : v >= Level.WARNING.intValue() ? 4 : v >= Level.INFO.intValue() ? 6 : 7;
        }
    }
}
