package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.testing.Fuzz;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The daemon's policy file, fuzzed: any text either loads into a policy whose JSON loads again into
 * the same rules, or is refused with one line that names the file and says why. Inputs are made of
 * the policy's own keys and values, so most get past the JSON syntax into the rules' checks.
 */
class PolicyFuzzTest {
    private static final Fuzz.Counts COUNTS = new Fuzz.Counts();
    private static final Policy.Ids IDS = new Policy.Ids(Map.of("root", 0, "alice", 1000), Map.of("staff", 50));
    private static final String NAME = "/etc/mountkeeper/policy.json";

    @Property(tries = Fuzz.TRIES)
    void everyPolicyLoadsAndRoundTripsOrIsRefused(@ForAll("files") List<String> batch) throws Exception {
        for (String text : batch) {
            try {
                Policy.parse(NAME, text, IDS);
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage()).startsWith("Invalid policy \"" + NAME + "\": ").doesNotContain("\n", "For input string");
                assertThat(e.getMessage()).doesNotContainPattern("(?:[a-z]+\\.)+[A-Z]\\w*(?:Exception|Error)");
                COUNTS.refused().incrementAndGet();
                continue;
            }
            var b = dev.mountkeeper.shared.proto.Policy.newBuilder();
            JsonFormat.parser().merge(text, b);
            String again = JsonFormat.printer().print(b.build());
            var b2 = dev.mountkeeper.shared.proto.Policy.newBuilder();
            JsonFormat.parser().merge(again, b2);
            assertThat(b2.build()).isEqualTo(b.build());
            Policy.parse(NAME, again, IDS);
            COUNTS.parsed().incrementAndGet();
        }
    }

    @Provide
    Arbitrary<List<String>> files() {
        Arbitrary<String> word = Fuzz.textOf("root", "alice", "@staff", "@nobody", "1000", "99999999999", "-1", "/",
                "/mnt", "/srv/a", "a/b", "..", "bind", "tmpfs", "proc", "squashfs", "overlay", "ro", "shared", "suid",
                "dev", "size", "bogus");
        Arbitrary<String> str = word.map(PolicyFuzzTest::json);
        Arbitrary<String> strs = str.list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> number = Arbitraries.of("0", "1", "-1", "4294967295", "4294967296", "1.5", "1e3", "\"7\"", "null");
        Arbitrary<String> ruleField = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of("users", "targets", "sources", "types", "options").flatMap(
                        k -> strs.map(v -> "\"" + k + "\":" + v))),
                Tuple.of(1, Fuzz.textOf("users", "x", "\"", ":", "[", "]").map(k -> json(k) + ":" + "[]")));
        Arbitrary<String> rule = ruleField.list().ofMaxSize(5).map(l -> "{" + String.join(",", l) + "}");
        Arbitrary<String> limit = Arbitraries.of("specs_per_request", "mountsPerUser", "connections_per_user",
                "idle_timeout_ms", "request_timeout_ms", "bogus").flatMap(k -> number.map(v -> "\"" + k + "\":" + v));
        Arbitrary<String> context = str.flatMap(k -> Arbitraries.of("true", "false", "1", "\"x\"")
                .map(v -> k + ":{\"lazy_unmount\":" + v + "}"));
        Arbitrary<String> field = Arbitraries.frequencyOf(
                Tuple.of(4, rule.list().ofMaxSize(3).map(l -> "\"rules\":[" + String.join(",", l) + "]")),
                Tuple.of(2, limit.list().ofMaxSize(3).map(l -> "\"limits\":{" + String.join(",", l) + "}")),
                Tuple.of(2, context.list().ofMaxSize(2).map(l -> "\"contexts\":{" + String.join(",", l) + "}")),
                Tuple.of(1, Arbitraries.of("\"rules\":null", "\"rules\":{}", "\"bogus\":1", "\"limits\":[]")));
        Arbitrary<String> policy = field.list().ofMaxSize(3).map(l -> "{" + String.join(",", l) + "}");
        Arbitrary<String> cut = policy.flatMap(p -> Arbitraries.integers().between(0, p.length()).map(n -> p.substring(0, n)));
        Arbitrary<String> raw = Fuzz.textOf("{", "}", "[", "]", "\"rules\"", ":", ",", "null", "true");
        return Arbitraries.frequencyOf(Tuple.of(7, policy), Tuple.of(2, cut), Tuple.of(1, raw)).list().ofSize(Fuzz.batch());
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    @AfterContainer
    static void report() {
        COUNTS.report("policy file");
    }
}
