package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.shared.proto.ContextStatus;
import dev.mountkeeper.shared.proto.Holder;
import dev.mountkeeper.shared.proto.Outcome;
import dev.mountkeeper.shared.proto.Status;
import dev.mountkeeper.shared.proto.TargetStatus;
import org.junit.jupiter.api.Test;

/** The API's JSON: numbers as numbers (64-bit ones too), every field always, either form parsed. */
class ApiJsonTest {
    static final Holder HOLDER = Holder.newBuilder().setPid(27980).setStartTime(385317).setBootId("b").setUid(1000).build();

    @Test
    void int64FieldsAreNumbersLikeTheOthers() {
        Outcome o = Outcome.newBuilder().setHolder(HOLDER).addTargets(TargetStatus.newBuilder().setTarget("/t")
                .setMountId(-1L).addHolders(HOLDER).setCount(1)).build(); // mount_id 2^64-1: unsigned, exact
        JsonObject j = JsonParser.parseString(ApiJson.print(o)).getAsJsonObject();
        JsonObject h = j.getAsJsonObject("holder");
        assertThat(h.get("pid").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(h.get("pid").getAsLong()).isEqualTo(27980);
        assertThat(h.get("start_time").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(h.get("uid").getAsJsonPrimitive().isNumber()).isTrue();
        JsonObject t = j.getAsJsonArray("targets").get(0).getAsJsonObject();
        assertThat(t.get("mount_id").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(t.get("mount_id").getAsBigInteger().toString()).isEqualTo("18446744073709551615");
        assertThat(t.getAsJsonArray("holders").get(0).getAsJsonObject().get("pid").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(ApiJson.print(o)).contains("\"pid\": 27980").doesNotContain("\"27980\"");
    }

    @Test
    void everyFieldIsPrintedEvenWhenEmpty() {
        JsonObject empty = JsonParser.parseString(ApiJson.print(Status.getDefaultInstance())).getAsJsonObject();
        assertThat(empty.keySet()).containsExactly("boot_id", "contexts");
        JsonObject target = JsonParser.parseString(ApiJson.print(TargetStatus.getDefaultInstance())).getAsJsonObject();
        assertThat(target.keySet()).containsExactly("target", "spec", "state", "mount_id", "mounts", "holders", "count",
                "busy_with", "context");
        assertThat(target.get("mount_id").getAsJsonPrimitive().isNumber()).isTrue();
        JsonObject outcome = JsonParser.parseString(ApiJson.print(Outcome.getDefaultInstance())).getAsJsonObject();
        assertThat(outcome.keySet()).containsExactly("holder", "targets", "actions", "skipped");
        assertThat(outcome.get("holder").isJsonNull()).isTrue(); // a sweep has no holder
    }

    @Test
    void theParserTakesNumbersAndStrings() throws Exception {
        Status s = Status.newBuilder().setBootId("b").addContexts(ContextStatus.newBuilder().setName("c")
                .addTargets(TargetStatus.newBuilder().setMountId(2147483671L).addHolders(HOLDER))).build();
        Status.Builder back = Status.newBuilder();
        JsonFormat.parser().merge(ApiJson.print(s), back);
        assertThat(back.build()).isEqualTo(s);
        Holder.Builder old = Holder.newBuilder();
        JsonFormat.parser().merge("{\"pid\": \"27980\", \"start_time\": \"385317\"}", old);
        assertThat(old.getPid()).isEqualTo(27980);
        assertThat(old.getStartTime()).isEqualTo(385317);
    }
}
