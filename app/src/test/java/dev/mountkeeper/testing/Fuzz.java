package dev.mountkeeper.testing;

import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Fuzzing the parsers with jqwik: each try checks a batch of inputs, {@code mountkeeper.fuzz.batch}
 * of them (10 in an ordinary run, so 10,000 per parser; {@code ./dev fuzz} sets 1,000 for
 * 1,000,000), and every input must either parse into something that round-trips or be refused
 * with a message that names it.
 */
public final class Fuzz {
    private Fuzz() {}

    public static final int TRIES = 1000;

    public static int batch() {
        return Integer.getInteger("mountkeeper.fuzz.batch", 10);
    }

    /** Strings made of {@code tokens}, interesting characters and random ones, up to 12 pieces. */
    public static Arbitrary<String> textOf(String... tokens) {
        Arbitrary<String> piece = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(tokens)),
                net.jqwik.api.Tuple.of(3, Arbitraries.of(":", "\\", "/", ",", "=", "\\:", "\\\\", "+", ".", "..", " ", "\0",
                        "\n", "\"", "{", "}", "[", "]", "é", "\uD83D\uDE00", "\uFFFF")),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
        return piece.list().ofMaxSize(12).map(l -> String.join("", l));
    }

    /** Counts what a fuzz test saw, for its figure. */
    public record Counts(AtomicLong parsed, AtomicLong refused) {
        public Counts() {
            this(new AtomicLong(), new AtomicLong());
        }

        public void report(String what) {
            Figures.report("fuzz " + what + ": " + (parsed.get() + refused.get()) + " inputs, " + parsed.get()
                    + " parsed and round-tripped, " + refused.get() + " refused with a message naming them, 0 otherwise");
        }
    }
}
