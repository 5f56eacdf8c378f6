package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.shared.proto.AcquireRequest;
import dev.mountkeeper.shared.proto.Error;
import dev.mountkeeper.shared.proto.ReleaseRequest;
import dev.mountkeeper.shared.proto.SweepRequest;
import dev.mountkeeper.testing.Fuzz;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The daemon's JSON requests, fuzzed through the API as an unprivileged peer that no policy rule
 * names (so nothing is ever mounted): every body is answered, never with 500, always with a JSON
 * error that says why when refused; a body that parses as the request round-trips through JSON.
 */
@Privileged
class RequestFuzzTest {
    private static final Fuzz.Counts COUNTS = new Fuzz.Counts();
    private static final Set<Integer> ANSWERS = Set.of(200, 400, 403, 404, 409, 429);
    private static final Map<String, Message> REQUESTS = Map.of("/v1/acquire", AcquireRequest.getDefaultInstance(),
            "/v1/release", ReleaseRequest.getDefaultInstance(), "/v1/sweep", SweepRequest.getDefaultInstance());
    private static Path state;
    private static MountManager manager;
    private static Api api;
    private static final Peer NOBODY = Peer.of(ProcessHandle.current().pid(), 65534, 65534, List.of());

    /** Held: the daemon's one log line per refused request would be a million lines here. */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("mountkeeper.daemon");

    @BeforeContainer
    static void start() throws Exception {
        QUIET.setLevel(java.util.logging.Level.WARNING);
        // Sweeps with once keys are written to the state: on a tmpfs, a million of them cost no disk.
        state = Files.createTempDirectory("mk-fuzz-");
        MountSyscalls.mount("tmpfs", state.toString(), "tmpfs", 0, "size=64m");
        manager = MountManager.start(KernelFeatures.current(), Policy.rootOnly(), state, Faults.NONE);
        api = new Api(manager);
    }

    @AfterContainer
    static void stop() throws Exception {
        COUNTS.report("daemon requests");
        if (manager != null) manager.close();
        MountSyscalls.umount2(state.toString(), 0);
        Files.delete(state);
    }

    @Property(tries = Fuzz.TRIES)
    void everyRequestIsAnsweredAndNeverWith500(@ForAll("requests") List<Tuple.Tuple2<String, String>> batch) throws Exception {
        for (var r : batch) {
            Api.Response answer = api.handle(NOBODY, "POST", r.get1(), Map.of(), r.get2());
            assertThat(answer.status()).as(r.get1() + " " + r.get2() + " -> " + answer.json()).isIn(ANSWERS);
            if (answer.status() != 200) {
                Error.Builder e = Error.newBuilder();
                JsonFormat.parser().merge(answer.json(), e);
                assertThat(e.getError()).as(r.get2()).isNotBlank();
            }
            Message.Builder b = REQUESTS.get(r.get1()).newBuilderForType();
            try {
                JsonFormat.parser().merge(r.get2(), b);
            } catch (InvalidProtocolBufferException | RuntimeException refused) {
                assertThat(answer.status()).as(r.get2()).isEqualTo(400);
                COUNTS.refused().incrementAndGet();
                continue;
            }
            Message parsed = b.build();
            Message.Builder again = parsed.newBuilderForType();
            JsonFormat.parser().merge(JsonFormat.printer().print(parsed), again);
            assertThat(again.build()).isEqualTo(parsed);
            COUNTS.parsed().incrementAndGet();
        }
    }

    @Provide
    Arbitrary<List<Tuple.Tuple2<String, String>>> requests() {
        Arbitrary<String> key = Arbitraries.of("\"context\"", "\"holder\"", "\"specs\"", "\"all\"", "\"under\"", "\"once\"",
                "\"report_only\"", "\"reportOnly\"", "\"pid\"", "\"build_id\"", "\"nosuch\"", "\"\"");
        Arbitrary<String> scalar = Arbitraries.of("\"c\"", "\"\"", "\"/build/x\"", "\"proc::/build/p\"", "\"tmpfs::/tmp/x\"",
                "\"bind:/etc:/build/e\"", "\"a\\u0000b\"", "1", "-1", "0", "18446744073709551617", "1.5", "true", "null",
                "\"" + "x".repeat(300) + "\"");
        Arbitrary<String> value = Arbitraries.lazyOf(() -> Arbitraries.oneOf(scalar,
                scalar.list().ofMaxSize(3).map(l -> "[" + String.join(", ", l) + "]"),
                Combinators.combine(key, scalar).as((k, v) -> "{" + k + ": " + v + "}")));
        Arbitrary<String> object = Combinators.combine(key, value).as((k, v) -> k + ": " + v).list().ofMaxSize(4)
                .map(l -> "{" + String.join(", ", l) + "}");
        Arbitrary<String> body = Arbitraries.frequencyOf(Tuple.of(7, object),
                Tuple.of(3, Fuzz.textOf("{", "}", "\"context\"", ":", "\"c\"", ",", "[", "]", "\"specs\"", "1", "null")));
        return Combinators.combine(Arbitraries.of(REQUESTS.keySet()), body).as(Tuple::of).list().ofSize(Fuzz.batch());
    }
}
