package dev.mountkeeper.shared;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.mountkeeper.shared.proto.State;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The daemon's state on disk: two slots written in turn, each a checksummed header and a State
 * message, fsync'd before the daemon answers. A write torn by a crash spoils only the slot being
 * written; the other holds the generation before it.
 */
final class StateStore {
    private static final int MAGIC = 0x4d4b5354; // "MKST"
    private static final int FORMAT = 1;
    private static final int HEADER = 16;

    private final Path dir;
    private final DaemonMetrics metrics;

    /**
     * What loading found: the newest valid state (null if none); slots cut short by a crash while
     * being written ({@code torn}: the change in them was never answered); slots damaged otherwise.
     */
    record Loaded(State state, List<String> torn, List<String> problems, boolean existed) {}

    /** A slot shorter than its header says: a write cut short. */
    static final class TornException extends IOException {
        TornException(String m) { super(m); }
    }

    StateStore(Path dir, DaemonMetrics metrics) throws IOException {
        this.dir = dir;
        this.metrics = metrics;
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }

    Path slot(int i) {
        return dir.resolve("state." + i);
    }

    Loaded load() {
        List<String> problems = new ArrayList<>(), torn = new ArrayList<>();
        State best = null;
        boolean existed = false;
        for (int i = 0; i < 2; i++) {
            byte[] data;
            try {
                data = Files.readAllBytes(slot(i));
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                problems.add(slot(i) + " cannot be read: " + e.getMessage());
                continue;
            }
            existed = true;
            try {
                State s = decode(data);
                if (best == null || s.getGeneration() > best.getGeneration()) best = s;
            } catch (TornException e) {
                torn.add(slot(i) + " is " + e.getMessage());
            } catch (IOException e) {
                problems.add(slot(i) + " is " + e.getMessage());
            }
        }
        return new Loaded(best, torn, problems, existed);
    }

    static State decode(byte[] data) throws IOException {
        if (data.length < HEADER) throw new TornException("truncated (" + data.length + " bytes, shorter than its header)");
        ByteBuffer b = ByteBuffer.wrap(data);
        if (b.getInt() != MAGIC) throw new IOException("corrupt (not a mountkeeper state file)");
        int format = b.getInt();
        if (format != FORMAT) throw new IOException("in an unknown format " + format);
        int length = b.getInt();
        int crc = b.getInt();
        if (length < 0 || data.length - HEADER < length) {
            throw new TornException("truncated (" + (data.length - HEADER) + " of " + length + " bytes)");
        }
        CRC32C c = new CRC32C();
        c.update(data, HEADER, length);
        if ((int) c.getValue() != crc) throw new IOException("corrupt (checksum mismatch)");
        try {
            return State.parseFrom(ByteBuffer.wrap(data, HEADER, length));
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("corrupt (" + e.getMessage() + ")");
        }
    }

    static byte[] encode(State s) {
        byte[] payload = s.toByteArray();
        CRC32C c = new CRC32C();
        c.update(payload);
        return ByteBuffer.allocate(HEADER + payload.length).putInt(MAGIC).putInt(FORMAT).putInt(payload.length)
                .putInt((int) c.getValue()).put(payload).array();
    }

    /** Writes {@code s} into the slot its generation picks, and waits until it is on disk. */
    void write(State s) throws IOException {
        write(s, false);
    }

    /** Writes {@code s}, or only its first half when {@code torn} (fault injection). */
    void write(State s, boolean torn) throws IOException {
        long start = System.nanoTime();
        Path p = slot((int) (s.getGeneration() % 2));
        boolean created = !Files.exists(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] data = encode(s);
            ByteBuffer b = ByteBuffer.wrap(data, 0, torn ? data.length / 2 : data.length);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        if (created) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        }
        metrics.stateWritten(s, System.nanoTime() - start);
    }
}
