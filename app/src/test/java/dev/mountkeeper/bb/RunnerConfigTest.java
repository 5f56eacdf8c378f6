package dev.mountkeeper.bb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.mount.MountSpecs;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Loading configurations: Jsonnet, protobuf's JSON rules, and refusals that name what they refuse. */
class RunnerConfigTest {
    static final String DIR = Path.of("app/src/test/resources/bb").toAbsolutePath().toString();
    static final Map<String, String> ENV = Map.of("OS", "Linux", "PWD", "/work", "METRICS_PORT", "9987");

    @Test
    void aConfigurationInBuildbarnsExampleFormLoadsUnchanged() throws Exception {
        RunnerConfig c = RunnerConfig.load(DIR + "/runner.jsonnet", ENV, null);
        assertThat(c.proto().getBuildDirectoryPath()).isEqualTo("/work/worker/build");
        assertThat(c.proto().getGrpcServers(0).getListenPathsList()).containsExactly("worker/runner");
        assertThat(c.proto().getGlobal().getDiagnosticsHttpServer().getHttpServers(0).getListenAddressesList())
                .containsExactly(":9987");
        assertThat(c.mounts()).isEmpty();
    }

    @Test
    void theDocumentedConfigurationLoads() throws Exception {
        RunnerConfig c = RunnerConfig.load(Path.of("docs/buildbarn/runner.jsonnet").toAbsolutePath().toString(), ENV, null);
        assertThat(c.proto().getChrootIntoInputRoot()).isTrue();
        assertThat(c.mounts()).extracting(MountSpecs::format).contains("proc::/proc", "sysfs::/sys:ro", "dev::/dev");
    }

    @Test
    void mountkeepersFieldsInSnakeOrCamelCase() throws Exception {
        RunnerConfig c = RunnerConfig.load(DIR + "/runner-mounts.jsonnet", ENV, null);
        assertThat(c.proto().getChrootIntoInputRoot()).isTrue();
        assertThat(c.mounts()).extracting(MountSpecs::format).containsExactly("proc::/proc", "sysfs::/sys:ro",
                "ro-bind:/usr:/usr", "symlink:usr/bin:/bin", "symlink:usr/lib:/lib", "symlink:usr/lib64:/lib64",
                "dev::/dev", "tmpfs::/tmp:size=67108864");
    }

    @Test
    void standardInputAndExtVars() throws Exception {
        String jsonnet = "{ buildDirectoryPath: std.extVar('B'), grpcServers: [{ listenAddresses: [':8991'],"
                + " authenticationPolicy: { allow: {} } }] }";
        RunnerConfig c = RunnerConfig.load("-", Map.of("B", "/b"),
                new ByteArrayInputStream(jsonnet.getBytes(StandardCharsets.UTF_8)));
        assertThat(c.proto().getBuildDirectoryPath()).isEqualTo("/b");
    }

    private static String minimal(String extra) {
        return "{\"buildDirectoryPath\": \"/b\", \"grpcServers\": [{\"listenPaths\": [\"/s\"], "
                + "\"authenticationPolicy\": {\"allow\": {}}}]" + extra + "}";
    }

    @Test
    void anUnknownFieldIsRefusedByName() {
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"chrootIntoInputRoots\": true")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("chrootIntoInputRoots");
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"global\": {\"diagnosticsHttpServer\": {\"port\": 1}}")))
                .hasMessageContaining("port");
    }

    @Test
    void optionsTheRunnerDoesNotImplementAreRefusedNotIgnored() {
        for (String extra : new String[] {", \"runCommandsAs\": {\"userId\": 1000}",
                ", \"temporaryDirectoryInstaller\": {\"address\": \"unix:///worker/tmp\"}",
                ", \"grpcServers\": [{\"listenPaths\": [\"/s\"], \"authenticationPolicy\": {\"any\": {\"policies\": [{\"jwt\": {}}]}}}]"}) {
            assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(extra))).as(extra)
                    .hasMessageContaining("is not supported by mountkeeper bb-runner");
        }
    }

    @Test
    void whatBbRunnerAcceptsLoads() throws Exception {
        RunnerConfig c = RunnerConfig.parse("test", "{\"buildDirectoryPath\": \"/b\", \"grpcServers\": [{\"listenPaths\": [\"/s\"],"
                + " \"authenticationPolicy\": {\"any\": {\"policies\": [{\"deny\": \"no\"}, {\"all\": {\"policies\": [{\"allow\":"
                + " {\"public\": {\"user\": \"worker\"}}}]}}]}}}], \"global\": {\"setUmask\": {\"umask\": 18}},"
                + " \"appleXcodeDeveloperDirectories\": {\"15\": \"/Applications/Xcode.app\"}}");
        assertThat(Authentication.denial(c.proto().getGrpcServers(0).getAuthenticationPolicy())).isNull();
        assertThat(Authentication.denial(RunnerConfig.parse("test", "{\"buildDirectoryPath\": \"/b\", \"grpcServers\":"
                + " [{\"listenPaths\": [\"/s\"], \"authenticationPolicy\": {\"deny\": \"closed\"}}]}").proto().getGrpcServers(0)
                .getAuthenticationPolicy())).isEqualTo("closed");
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"global\": {\"setUmask\": {\"umask\": 18, \"x\": 1}}")))
                .hasMessageContaining("x");
        assertThatThrownBy(() -> RunnerConfig.parse("test", "{\"buildDirectoryPath\": \"/b\", \"grpcServers\": [{\"listenPaths\":"
                + " [\"/s\"], \"authenticationPolicy\": {\"any\": {\"policies\": [], \"noSuchField\": 1}}}]}"))
                .hasMessageContaining("noSuchField");
    }

    @Test
    void badMountsAreRefusedWithTheirReason() {
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"inputRootMounts\": [{\"mountpoint\": \"../x\","
                + " \"filesystemType\": \"proc\"}]"))).hasMessageContaining("\"..\"");
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"inputRootMounts\": [{\"mountpoint\": \"x\","
                + " \"filesystemType\": \"nfs\"}]"))).hasMessageContaining("filesystem_type \"nfs\"");
        assertThatThrownBy(() -> RunnerConfig.parse("test", minimal(", \"inputRootMountSpecs\": [\"bogus:/a:/b\"]")))
                .hasMessageContaining("unknown type \"bogus\"");
        assertThatThrownBy(() -> RunnerConfig.parse("test", "{\"buildDirectoryPath\": \"/b\"}"))
                .hasMessageContaining("grpc_servers is empty");
    }

    @Test
    void jsonnetErrorsSayWhere() {
        assertThatThrownBy(() -> RunnerConfig.load("-", Map.of(), new ByteArrayInputStream("{ a: std.extVar('NOPE') }"
                .getBytes(StandardCharsets.UTF_8)))).hasMessageContaining("Unknown extVar: NOPE");
    }
}
