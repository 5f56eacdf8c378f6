package dev.mountkeeper.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.testing.Fuzz;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/** The spec language, fuzzed: every string parses into a spec that formats back to itself, or is refused naming it. */
class SpecFuzzTest {
    private static final Fuzz.Counts COUNTS = new Fuzz.Counts();

    @Property(tries = Fuzz.TRIES)
    void everySpecParsesAndRoundTripsOrIsRefusedNamingIt(@ForAll("specs") List<String> batch) {
        for (String text : batch) {
            MountSpec spec;
            try {
                spec = MountSpecs.parse(text);
            } catch (InvalidSpecException e) {
                assertThat(e.getMessage()).as(text).startsWith("Invalid mount spec " + Quote.string(text) + ": ");
                COUNTS.refused().incrementAndGet();
                continue;
            }
            assertThat(MountSpecs.parse(MountSpecs.format(spec))).as(text).isEqualTo(spec);
            COUNTS.parsed().incrementAndGet();
        }
    }

    @Provide
    Arbitrary<List<String>> specs() {
        Arbitrary<String> type = Arbitraries.of("bind", "rbind", "pbind", "ro-bind", "proc", "sysfs", "tmpfs", "devpts", "mqueue",
                "dev", "dir", "symlink", "overlay", "image", "nosuchtype", "", "BIND");
        Arbitrary<String> component = Arbitraries.of("a", "build", "root", "proc", "x y", "é", "\\:", "\\\\", ".", "..", "", "a\0b");
        Arbitrary<String> path = component.list().ofMaxSize(4).flatMap(l -> Arbitraries.of("/", "", "//")
                .map(lead -> lead + String.join("/", l)));
        Arbitrary<String> option = Arbitraries.of("ro", "nosuid", "nodev", "noexec", "private", "slave", "shared", "recursive",
                "try", "size=4m", "size=0", "size=12k", "size=99999999999999999999", "size=", "mode=0755", "mode=1777",
                "mode=9", "mode=", "bogus", "");
        Arbitrary<String> options = option.list().ofMaxSize(4).map(l -> String.join(",", l));
        Arbitrary<String> structured = net.jqwik.api.Combinators.combine(type, path, path, options, Arbitraries.of(true, false))
                .as((t, src, dest, o, withOptions) -> t + ":" + src + ":" + dest + (withOptions ? ":" + o : ""));
        // A structured spec, sometimes with one character changed, or text made of the language's pieces.
        Arbitrary<String> mutated = net.jqwik.api.Combinators.combine(structured, Arbitraries.integers().between(0, 200),
                Arbitraries.chars().with(':', '\\', '/', ',', '=', '\0', 'x')).as((t, at, c) -> t.isEmpty() ? t
                : t.substring(0, at % t.length()) + c + t.substring(at % t.length() + 1));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, structured), net.jqwik.api.Tuple.of(2, mutated),
                net.jqwik.api.Tuple.of(2, Fuzz.textOf("bind", "tmpfs", "proc", "dir", ":", "::", "/", "/a", "ro", "size=4m")))
                .list().ofSize(Fuzz.batch());
    }

    @AfterContainer
    static void report() {
        COUNTS.report("spec language");
    }
}
