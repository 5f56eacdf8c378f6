package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.shared.proto.TargetState;
import java.io.IOException;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The state file's encoding: what is written reads back, and damage of any kind is noticed. */
class StateStoreTest {
    @Provide
    Arbitrary<State> states() {
        Arbitrary<TargetState> target = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(30).map(p -> TargetState.newBuilder()
                .setContext("c").setBase("/build").setPath("/" + p).setSpec("tmpfs::/build/" + p)
                .setPhase(TargetState.Phase.MOUNTED).setMountId(p.hashCode() & 0xffff).setOrder(p.length())
                .addHolders(Holder.newBuilder().setPid(p.length()).setStartTime(p.hashCode() & 0xfffff).setBootId("b"))
                .build());
        return target.list().ofMaxSize(20).map(ts -> State.newBuilder().setBootId("boot").setGeneration(ts.size() + 1)
                .addAllTargets(ts).build());
    }

    @Property
    void whatIsWrittenReadsBack(@ForAll("states") State s) throws IOException {
        assertThat(StateStore.decode(StateStore.encode(s))).isEqualTo(s);
    }

    @Property
    void anyTruncationIsNoticed(@ForAll("states") State s, @ForAll @IntRange(min = 0, max = 10_000) int cut) {
        byte[] data = StateStore.encode(s);
        byte[] shorter = Arrays.copyOf(data, cut % data.length);
        assertThatThrownBy(() -> StateStore.decode(shorter)).isInstanceOf(IOException.class)
                .hasMessageMatching("(truncated|corrupt).*");
    }

    @Property
    void anyFlippedBitIsNoticed(@ForAll("states") State s, @ForAll @IntRange(min = 0, max = 1 << 20) int at) {
        byte[] data = StateStore.encode(s);
        int bit = at % (data.length * 8);
        data[bit / 8] ^= (byte) (1 << (bit % 8));
        assertThatThrownBy(() -> StateStore.decode(data)).isInstanceOf(IOException.class);
    }
}
