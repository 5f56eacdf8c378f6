package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.shared.proto.State;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 16: the state is stale (another boot), truncated or corrupt. The daemon notices,
 * says so, rebuilds from the kernel's mount table, and loses nothing: the live holder's mount stays
 * mounted, is shown, and can be acquired again and released.
 */
@Privileged
class StateRecoveryTest {
    @TempDir Path dir;

    private String policy() {
        return "{\"rules\": [{\"users\": [\"nobody\"], \"targets\": [\"" + dir.resolve("root") + "\"]}]}";
    }

    @ParameterizedTest
    @ValueSource(strings = {"stale", "truncated", "corrupt"})
    void lostStateIsNoticedAndNothingIsLost(String damage) throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, policy()).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            long id = mountIdAt(a);
            d.kill();
            for (int slot = 0; slot < 2; slot++) damage(d.state.resolve("state." + slot), damage);
            d.start();
            String said = switch (damage) {
                case "stale" -> "stale, written in boot";
                case "truncated" -> "is truncated";
                default -> "is corrupt";
            };
            assertThat(d.logText()).contains(said).contains("adopted " + a);
            assertThat(mountIdAt(a)).as("still mounted, the same mount").isEqualTo(id);
            assertThat(d.status().getContexts(0).getName()).isEqualTo(MountManager.RECOVERED);
            // The holder acquires again (its build goes on): adopted, not mounted twice.
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            assertThat(mountIdAt(a)).isEqualTo(id);
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            d.ok("POST", "/v1/release", release("c", h.pid(), "tmpfs::" + a));
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
            Figures.report("state " + damage + ": noticed (\"" + said + "\"), rebuilt from the kernel's mount table, 0 mounts lost");
        }
    }

    @Test
    void aWriteCutShortLeavesThePreviousGenerationWithItsHolders() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        Path b = Files.createDirectories(dir.resolve("root/b"));
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, policy()).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + b));
            d.kill();
            Path older = other(d.state, newest(d.state));
            Files.write(older, java.util.Arrays.copyOf(Files.readAllBytes(older), 20)); // the next write, cut short
            d.start();
            assertThat(d.logText()).contains(older + " is truncated");
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString(), b.toString());
            assertThat(d.status().getContexts(0).getTargets(1).getHolders(0).getPid()).isEqualTo(h.pid());
            h.kill();
            waitUntil(() -> unchecked(dir.resolve("root")).isEmpty(), "the holder's mounts to go with it");
        }
    }

    @Test
    void aDamagedNewestSlotLosesNoMountTheOlderOneDoesNotKnow() throws Exception {
        Path a = Files.createDirectories(dir.resolve("root/a"));
        try (HolderProcess h = new HolderProcess(); DaemonProcess d = new DaemonProcess(dir, policy()).start()) {
            d.ok("POST", "/v1/acquire", acquire("c", h.pid(), "tmpfs::" + a));
            d.kill();
            damage(newest(d.state), "corrupt"); // the older slot still says "mounting"
            d.start();
            assertThat(mountsUnder(dir.resolve("root"))).containsExactly(a.toString());
            assertThat(d.logText()).contains("adopted " + a);
            d.ok("POST", "/v1/sweep", "{\"context\": \"" + MountManager.RECOVERED + "\"}");
            assertThat(mountsUnder(dir.resolve("root"))).isEmpty();
        }
    }

    private static Path other(Path state, Path slot) {
        return state.resolve(slot.getFileName().toString().equals("state.0") ? "state.1" : "state.0");
    }

    private static Path newest(Path state) throws Exception {
        long g0 = StateStore.decode(Files.readAllBytes(state.resolve("state.0"))).getGeneration();
        long g1 = StateStore.decode(Files.readAllBytes(state.resolve("state.1"))).getGeneration();
        return state.resolve(g0 > g1 ? "state.0" : "state.1");
    }

    private static void damage(Path slot, String how) throws Exception {
        byte[] data = Files.readAllBytes(slot);
        switch (how) {
            case "stale" -> rewrite(slot, s -> s.toBuilder().setBootId("00000000-0000-0000-0000-000000000000").build());
            case "truncated" -> Files.write(slot, java.util.Arrays.copyOf(data, data.length / 2));
            default -> {
                data[data.length - 3] ^= 0x5a;
                Files.write(slot, data);
            }
        }
    }

    private static void rewrite(Path slot, UnaryOperator<State> f) throws Exception {
        Files.write(slot, StateStore.encode(f.apply(StateStore.decode(Files.readAllBytes(slot)))));
    }
}
