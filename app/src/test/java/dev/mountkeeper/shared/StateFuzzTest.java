package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.testing.Fuzz;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The state file, fuzzed: any bytes either decode into a state that encodes and decodes to itself,
 * or are refused as truncated, corrupt or of an unknown format. Most inputs get past the header
 * and the checksum (they are made with a right one), so the protobuf payload is what is fuzzed.
 */
class StateFuzzTest {
    private static final Fuzz.Counts COUNTS = new Fuzz.Counts();

    @Property(tries = Fuzz.TRIES)
    void everyStateFileDecodesAndRoundTripsOrIsRefused(@ForAll("files") List<byte[]> batch) {
        for (byte[] data : batch) {
            State s;
            try {
                s = StateStore.decode(data);
            } catch (IOException e) {
                assertThat(e.getMessage()).matches("(truncated|corrupt|in an unknown format).*");
                COUNTS.refused().incrementAndGet();
                continue;
            }
            try {
                assertThat(StateStore.decode(StateStore.encode(s))).isEqualTo(s);
            } catch (IOException e) {
                throw new AssertionError("a decoded state did not round-trip", e);
            }
            COUNTS.parsed().incrementAndGet();
        }
    }

    @Provide
    Arbitrary<List<byte[]>> files() {
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
        Arbitrary<byte[]> framed = payload.map(StateFuzzTest::frame);
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
        Arbitrary<byte[]> cut = framed.flatMap(f -> Arbitraries.integers().between(0, f.length).map(n -> java.util.Arrays.copyOf(f, n)));
        return Arbitraries.frequencyOf(Tuple.of(6, framed), Tuple.of(2, cut), Tuple.of(2, raw)).list().ofSize(Fuzz.batch());
    }

    /** {@code payload} behind the header the daemon writes: magic, format, length and a right checksum. */
    private static byte[] frame(byte[] payload) {
        byte[] valid = StateStore.encode(State.getDefaultInstance());
        ByteBuffer header = ByteBuffer.wrap(valid, 0, 8);
        CRC32C c = new CRC32C();
        c.update(payload);
        ByteBuffer out = ByteBuffer.allocate(16 + payload.length);
        out.putInt(header.getInt()).putInt(header.getInt()).putInt(payload.length).putInt((int) c.getValue()).put(payload);
        return out.array();
    }

    @AfterContainer
    static void report() {
        COUNTS.report("state file");
    }
}
