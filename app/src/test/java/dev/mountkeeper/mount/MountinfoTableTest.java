package dev.mountkeeper.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountinfoTableTest {
    @Test
    void parsesALineWithOptionalFieldsAndEscapes() {
        MountEntry e = MountinfoTable.parse(
                "36 35 98:0 /mnt\\0401 /a\\040b\\134c rw,nosuid,noexec shared:1 master:2 - ext3 /dev/root rw,errors=continue");
        assertThat(e.id()).isEqualTo(36);
        assertThat(e.parentId()).isEqualTo(35);
        assertThat(e.root()).isEqualTo("/mnt 1");
        assertThat(e.mountPoint()).isEqualTo("/a b\\c");
        assertThat(e.flags()).isEqualTo("rw,nosuid,noexec");
        assertThat(e.propagation()).isEqualTo("shared:1");
        assertThat(e.fsType()).isEqualTo("ext3");
        assertThat(e.source()).isEqualTo("/dev/root");
    }

    @Test
    void unescapesOctalButLeavesOtherBackslashes() {
        assertThat(MountinfoTable.unescape("a\\011b\\012c")).isEqualTo("a\tb\nc");
        assertThat(MountinfoTable.unescape("a\\9")).isEqualTo("a\\9");
        assertThat(MountinfoTable.unescape("\\303\\251")).isEqualTo("é");
    }

    /** The fallback and listmount describe the same mounts (same points, types and flags). */
    @Test
    @Privileged
    void agreesWithListmount(@TempDir Path tmp) throws Exception {
        KernelFeatures k = KernelFeatures.detect();
        if (!k.listmount()) {
            // Before Linux 6.8 there is no listmount to agree with: the table must come from mountinfo.
            assertThat(k.toString()).contains("mount table from mountinfo");
            return;
        }
        Path odd = Files.createDirectories(tmp.resolve("with space\tand\\slash"));
        Mounter m = new Mounter(k, true, UnmountPolicy.DEFAULT);
        try (Root r = Root.open(odd.toString())) {
            Mounted t = m.mount(r, MountSpecs.parse("tmpfs::/x:ro,noexec"));
            List<String> a = view(new ListmountTable(true).read());
            List<String> b = view(new MountinfoTable().read());
            assertThat(a).isEqualTo(b).contains(odd + "/x tmpfs ro,nosuid,nodev,noexec");
            assertThat(Kernel.mountAt(odd + "/x")).isPresent();
            m.unmounter().unmount(r, t);
        }
    }

    private static List<String> view(List<MountEntry> t) {
        return t.stream().map(e -> e.mountPoint() + " " + e.fsType() + " " + e.flags()).toList();
    }
}
