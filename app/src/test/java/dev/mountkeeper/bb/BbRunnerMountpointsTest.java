package dev.mountkeeper.bb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input roots as Bazel makes them: no proc/, sys/ or tmp/. Configured mounts and the chroot's
 * TMPDIR work on them without create_mountpoints, and the worker finds the input root afterwards
 * exactly as it was: what was made for the mounts is gone with them.
 */
@Privileged
class BbRunnerMountpointsTest {
    static final String SYSTEM = "\"ro-bind:/usr:/usr\", \"ro-bind:/etc:/etc\", \"ro-bind:/bin:/bin\","
            + " \"ro-bind:/lib:/lib\", \"ro-bind:/lib64:/lib64:try\"";
    @TempDir Path dir;
    BuildFarm farm;

    @AfterEach
    void stop() throws Exception {
        if (farm != null) farm.close();
        assertThat(MountTable.below(MountTable.of(KernelFeatures.current()).read(), dir.toString())).isEmpty();
    }

    private static List<String> listing(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.map(p -> root.relativize(p) + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
        }
    }

    @Test
    void chrootWithoutTmpProcOrSysRunsAndLeavesTheInputRootAsItWas() throws Exception {
        farm = new BuildFarm(dir, "\"chrootIntoInputRoot\": true, \"setTmpdirEnvironmentVariable\": true, "
                + BbRunnerTest.PROC_AND_SYS + ", \"inputRootMountSpecs\": [" + SYSTEM + "]");
        String a = farm.newAction();
        Path root = farm.buildDirectory.resolve(a + "/root");
        Files.writeString(Files.createDirectories(root.resolve("src")).resolve("input.txt"), "x");
        List<String> before = listing(root);
        RunResponse r = farm.client.blocking().run(farm.request(a, "sh", "-c",
                "echo TMPDIR=$TMPDIR; touch $TMPDIR/t && echo tmp-writable; test -r /proc/self/status && echo proc;"
                        + " test -d /sys/kernel && echo sys").build());
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        assertThat(farm.stdout(a).lines()).containsExactly("TMPDIR=/tmp", "tmp-writable", "proc", "sys");
        assertThat(farm.buildDirectory.resolve(a + "/tmp/t")).exists();
        List<String> after = listing(root);
        Figures.report("bb-runner chroot, input root without tmp/proc/sys and no create_mountpoints: exit "
                + r.getExitCode() + ", input root before " + before + ", after " + after);
        assertThat(after).isEqualTo(before);
    }

    @Test
    void mountsWithoutChrootLeaveTheInputRootAsItWas() throws Exception {
        farm = new BuildFarm(dir, BbRunnerTest.PROC_AND_SYS);
        String a = farm.newAction();
        Path root = farm.buildDirectory.resolve(a + "/root");
        List<String> before = listing(root);
        RunResponse r = farm.client.blocking().run(farm.request(a, "sh", "-c",
                "test -r proc/self/status && test -d sys/kernel && echo both").build());
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        assertThat(farm.stdout(a)).isEqualTo("both\n");
        assertThat(listing(root)).isEqualTo(before);
    }

    @Test
    void symlinkSpecsGoWithTheAction() throws Exception {
        farm = new BuildFarm(dir, "\"chrootIntoInputRoot\": true, \"inputRootMountSpecs\": [\"ro-bind:/usr:/usr\","
                + " \"symlink:usr/bin:/bin\", \"symlink:usr/lib:/lib\", \"symlink:usr/lib64:/lib64\"]");
        String a = farm.newAction();
        Path root = farm.buildDirectory.resolve(a + "/root");
        RunResponse r = farm.client.blocking().run(farm.request(a, "true").build());
        assertThat(r.getExitCode()).as(farm.stderr(a)).isZero();
        assertThat(listing(root)).containsExactly("/");
    }

    @Test
    void aFailingActionLeavesNothingEither() throws Exception {
        farm = new BuildFarm(dir, "\"chrootIntoInputRoot\": true, \"setTmpdirEnvironmentVariable\": true, "
                + BbRunnerTest.PROC_AND_SYS + ", \"inputRootMountSpecs\": [" + SYSTEM + "]");
        String a = farm.newAction();
        Path root = farm.buildDirectory.resolve(a + "/root");
        RunResponse r = farm.client.blocking().run(farm.request(a, "no-such-tool").build());
        assertThat(r.getExitCode()).isEqualTo(127);
        assertThat(listing(root)).containsExactly("/");
    }
}
