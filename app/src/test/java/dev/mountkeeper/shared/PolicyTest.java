package dev.mountkeeper.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.mount.MountSpecs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyTest {
    private static final Policy.Ids IDS = new Policy.Ids(Map.of("builder", 1000, "other", 1001), Map.of("isar", 2000));

    private static Policy policy(String json) throws Exception {
        var b = dev.mountkeeper.shared.proto.Policy.newBuilder();
        JsonFormat.parser().merge(json, b);
        return Policy.of(b.build(), IDS);
    }

    private static final String RULES = """
            {"rules": [
              {"users": ["builder"], "targets": ["/build"], "sources": ["/sys", "/var/cache"], "types": ["proc", "rbind", "bind"]},
              {"users": ["@isar"], "targets": ["/build/isar"]}
            ], "contexts": {"slow": {"lazy_unmount": true}}}""";

    @Test
    void usersGroupsTargetsSourcesAndTypes() throws Exception {
        Policy p = policy(RULES);
        Peer builder = new Peer(1, 1000, List.of(1000)), inGroup = new Peer(2, 1001, List.of(1001, 2000)),
                stranger = new Peer(3, 1001, List.of(1001));
        assertThat(p.authorize(builder, MountSpecs.parse("proc::/build/rootfs/proc")).base()).isEqualTo("/build");
        assertThat(p.authorize(builder, MountSpecs.parse("rbind:/sys:/build/r/sys")).sourceAllowed("/sys/fs")).isTrue();
        assertThat(p.authorize(builder, MountSpecs.parse("bind:/etc:/build/r/etc")).sourceAllowed("/etc")).isFalse();
        assertThatThrownBy(() -> p.authorize(builder, MountSpecs.parse("tmpfs::/build/t"))).isInstanceOf(ApiException.class)
                .hasMessageContaining("does not allow uid 1000 (pid 1) to mount tmpfs on \"/build/t\"");
        assertThatThrownBy(() -> p.authorize(builder, MountSpecs.parse("proc::/build"))).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> p.authorize(builder, MountSpecs.parse("proc::/buildx/proc"))).isInstanceOf(ApiException.class);
        // The longest prefix wins; a rule without types allows every type, one without sources no bind source.
        assertThat(p.authorize(inGroup, MountSpecs.parse("tmpfs::/build/isar/t")).base()).isEqualTo("/build/isar");
        assertThat(p.authorize(inGroup, MountSpecs.parse("bind:/etc:/build/isar/e")).sourceAllowed("/etc")).isFalse();
        assertThatThrownBy(() -> p.authorize(stranger, MountSpecs.parse("tmpfs::/build/isar/t"))).isInstanceOf(ApiException.class);
        assertThat(p.authorize(new Peer(4, 0, List.of(0)), MountSpecs.parse("tmpfs::/anywhere/t")).base()).isEqualTo("/");
        // Providers only where a rule names them.
        assertThatThrownBy(() -> p.authorize(builder, MountSpecs.parse("overlay:/usr:/build/o"))).isInstanceOf(ApiException.class);
        assertThat(policy("{\"rules\": [{\"users\": [\"builder\"], \"targets\": [\"/build\"], \"types\": [\"overlay\"]}]}")
                .authorize(builder, MountSpecs.parse("overlay:/usr:/build/o")).base()).isEqualTo("/build");
        assertThat(p.mayTouch(builder, "/build/x")).isTrue();
        assertThat(p.mayTouch(stranger, "/build/x")).isFalse();
        assertThat(p.lazyUnmount("slow")).isTrue();
        assertThat(p.lazyUnmount("other")).isFalse();
    }

    @Test
    void optionsBeyondTheRestrictingOnesNeedARuleThatNamesThem() throws Exception {
        Policy p = policy(RULES);
        Peer builder = new Peer(1, 1000, List.of(1000));
        for (String ok : List.of("bind:/sys:/build/r/s:ro,nosuid,nodev,noexec,private", "rbind:/sys:/build/r/s:slave",
                "bind:/sys:/build/r/s:recursive")) {
            assertThat(p.authorize(builder, MountSpecs.parse(ok)).grants("dev")).as(ok).isFalse();
        }
        assertThatThrownBy(() -> p.authorize(builder, MountSpecs.parse("bind:/sys:/build/r/s:shared")))
                .hasMessage("The policy does not allow uid 1000 (pid 1) to mount bind on \"/build/r/s\" with option \"shared\"");
        Policy granted = policy("{\"rules\": [{\"users\": [\"builder\"], \"targets\": [\"/build\"], \"sources\": [\"/sys\"],"
                + " \"options\": [\"shared\", \"dev\"]}]}");
        Policy.Grant g = granted.authorize(builder, MountSpecs.parse("bind:/sys:/build/r/s:shared"));
        assertThat(g.grants("dev")).isTrue();
        assertThat(g.grants("suid")).isFalse();
        assertThat(p.authorize(new Peer(2, 0, List.of(0)), MountSpecs.parse("bind:/x:/y:shared")).grants("suid")).isTrue();
        assertThatThrownBy(() -> policy("{\"rules\": [{\"users\": [\"builder\"], \"targets\": [\"/b\"], \"options\": [\"sahred\"]}]}"))
                .hasMessageContaining("rules[0].options: unknown option \"sahred\"");
    }

    @Test
    void badPoliciesAreRefusedByName() {
        assertThatThrownBy(() -> policy("{\"rules\": [{\"users\": [\"nobody-here\"], \"targets\": [\"/b\"]}]}"))
                .hasMessage("unknown user \"nobody-here\"");
        assertThatThrownBy(() -> policy("{\"rules\": [{\"users\": [\"builder\"], \"targets\": [\"b\"]}]}"))
                .hasMessageContaining("rules[0].targets");
        assertThatThrownBy(() -> policy("{\"rules\": [{\"users\": [\"builder\"], \"targets\": [\"/b\"], \"types\": [\"dir\"]}]}"))
                .hasMessageContaining("rules[0].types: unknown type \"dir\"");
        assertThatThrownBy(() -> policy("{\"rules\": [{\"targets\": [\"/b\"]}]}")).hasMessage("rules[0] names no users");
        assertThatThrownBy(() -> policy("{\"rulez\": []}")).hasMessageContaining("rulez");
    }
}
