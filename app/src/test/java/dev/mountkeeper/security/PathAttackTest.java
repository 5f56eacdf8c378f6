package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.UnmountPolicy;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Kernel;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Security tests 2 to 7: path attacks on destinations, sources and unmounts. */
@Privileged
class PathAttackTest {
    @TempDir Path tmp;
    Path root;
    Path host;
    Mounter mounter = Mounter.create();

    @BeforeEach
    void layout() throws Exception {
        root = Files.createDirectories(tmp.resolve("root"));
        host = Files.createDirectories(tmp.resolve("host"));
    }

    private Mounted mount(Root r, String spec) throws Exception {
        return mounter.mount(r, MountSpecs.parse(spec));
    }

    /** 2: absolute symlinks, ../ chains and loops resolve inside the root or are refused; nothing lands outside. */
    @Test
    void staticSymlinksResolveInsideTheRoot() throws Exception {
        Files.createSymbolicLink(root.resolve("abs"), host);                 // absolute: means <root>/<host>
        Files.createSymbolicLink(root.resolve("dots"), Path.of("../../../../host")); // clamped at the root
        Files.createDirectories(root.resolve(host.toString().substring(1)));
        Files.createDirectories(root.resolve("host"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("/nowhere"));
        Files.createSymbolicLink(root.resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(root.resolve("loop2"), Path.of("loop1"));
        int attacks = 0, outside = 0;
        try (Root r = Root.open(root.toString())) {
            for (String dest : List.of("/abs", "/abs/x", "/dots", "/dots/x")) {
                attacks++;
                Mounted m = mount(r, "tmpfs::" + dest);
                assertThat(r.hostPath(m.path())).startsWith(root + "/");
                if (!Kernel.mountsBelow(host.toString()).isEmpty()) outside++;
                mounter.unmounter().unmount(r, m);
            }
            attacks++;
            assertThatThrownBy(() -> mount(r, "tmpfs::/loop1")).isInstanceOf(MountException.class)
                    .hasMessageContaining("symlink loop");
            attacks++;
            assertThatThrownBy(() -> mount(r, "tmpfs::/dangling")).isInstanceOf(MountException.class)
                    .hasMessageContaining("dangling symbolic link");
        }
        assertThat(Files.exists(root.resolve(host.toString().substring(1)))).isTrue(); // the absolute link's view
        Figures.report("security 2 (static symlinks: absolute, ../ chains, loops): " + attacks + " attacks, " + outside + " escapes");
        assertThat(outside).isZero();
    }

    /** 3: magic links (proc/self/root, proc/self/fd/N) in the path are refused. */
    @Test
    void magicLinksAreRefused() throws Exception {
        try (Root r = Root.open(root.toString())) {
            Mounted proc = mount(r, "proc::/proc");
            Files.createSymbolicLink(root.resolve("escape"), Path.of("/proc/self/root/tmp"));
            try {
                for (String dest : List.of("/proc/self/root/tmp/x", "/proc/self/cwd/x", "/proc/1/root/x", "/escape/x")) {
                    // Refused as a magic link, or earlier still when procfs denies the lookup itself.
                    assertThatThrownBy(() -> mount(r, "tmpfs::" + dest)).as(dest).isInstanceOf(MountException.class)
                            .hasMessageMatching("(?s).*(magic link|EACCES).*");
                }
            } finally {
                mounter.unmounter().unmount(r, proc);
            }
        }
        Figures.report("security 3 (magic links in the destination): 4 attacks, 0 escapes");
    }

    /** 4: the bind source is opened once; whatever the path becomes meanwhile, what is mounted is what was opened. */
    @Test
    void sourceSwappedDuringBindsMountsOnlyWhatWasOpened() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(a.resolve("who"), "a");
        Files.writeString(b.resolve("who"), "b");
        var sa = FileSyscalls.statx(FileSyscalls.AT_FDCWD, a.toString(), 0, FileSyscalls.STATX_INO);
        var sb = FileSyscalls.statx(FileSyscalls.AT_FDCWD, b.toString(), 0, FileSyscalls.STATX_INO);
        AtomicBoolean stop = new AtomicBoolean();
        Thread attacker = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                try {
                    FileSyscalls.renameat2(FileSyscalls.AT_FDCWD, a.toString(), FileSyscalls.AT_FDCWD, b.toString(),
                            FileSyscalls.RENAME_EXCHANGE);
                } catch (Exception ignored) {
                    // keep swapping
                }
            }
        });
        int attempts = 2000, inconsistent = 0;
        try (Root r = Root.open(root.toString())) {
            for (int i = 0; i < attempts; i++) {
                Mounted m = mount(r, "bind:" + a + ":/src");
                var mounted = FileSyscalls.statx(FileSyscalls.AT_FDCWD, root + "/src", 0, FileSyscalls.STATX_INO);
                String who = Files.readString(root.resolve("src/who"));
                boolean isA = mounted.sameFile(sa) && who.equals("a");
                boolean isB = mounted.sameFile(sb) && who.equals("b");
                if (!isA && !isB) inconsistent++;
                mounter.unmounter().unmount(r, m);
            }
        } finally {
            stop.set(true);
            attacker.join();
        }
        Figures.report("security 4 (bind source swapped while binding): " + attempts + " attempts, " + inconsistent
                + " mounts differing from the directory opened");
        assertThat(inconsistent).isZero();
    }

    /** 5: a file bind onto a destination that is a symlink is refused, whether it points inside or out. */
    @Test
    void fileBindOntoSymlinkIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "data");
        Path hostFile = Files.writeString(host.resolve("passwd"), "secret");
        Files.writeString(root.resolve("inside"), "");
        Files.createSymbolicLink(root.resolve("out"), hostFile);
        Files.createSymbolicLink(root.resolve("in"), Path.of("inside"));
        try (Root r = Root.open(root.toString())) {
            for (String dest : List.of("/out", "/in")) {
                assertThatThrownBy(() -> mount(r, "bind:" + file + ":" + dest)).as(dest)
                        .isInstanceOf(MountException.class).hasMessageContaining("is a symbolic link");
            }
        }
        assertThat(Files.readString(hostFile)).isEqualTo("secret");
        Figures.report("security 5 (file bind onto a symlink): 2 attacks, 0 escapes");
    }

    /**
     * 6: between mount and unmount, the mountpoint's directory is moved away and its path now leads
     * (through a symlink) to a host mount, or to a directory carrying a decoy mount. Unmounting goes
     * by the mount's id, through its parent fd: it removes our mount wherever it went, nothing else.
     */
    @Test
    void unmountHitsOnlyTheMountItMade() throws Exception {
        int wrong = 0;
        try (Root hostRoot = Root.open(tmp.toString()); Root r = Root.open(root.toString())) {
            Mounted hostMount = mount(hostRoot, "tmpfs::/host/m");
            Mounted ours = mount(r, "tmpfs::/p/m");
            Files.move(root.resolve("p"), root.resolve("p2"));
            Files.createSymbolicLink(root.resolve("p"), Path.of("/proc/self/root" + host)); // the host's m
            mounter.unmounter().unmount(r, ours);
            if (Kernel.mountAt(host + "/m").isEmpty()) wrong++;

            Mounted ours2 = mount(r, "tmpfs::/q/m");
            Files.move(root.resolve("q"), root.resolve("q2"));
            Mounted decoy = mount(r, "tmpfs::/q/m");
            mounter.unmounter().unmount(r, ours2);
            if (Kernel.mountAt(root + "/q/m").map(e -> e.id() != decoy.mountId()).orElse(true)) wrong++;
            assertThat(Kernel.mountsBelow(root.toString())).extracting(e -> e.mountPoint()).containsExactly(root + "/q/m");
            mounter.unmounter().unmount(r, decoy);
            mounter.unmounter().unmount(hostRoot, hostMount);
        }
        Figures.report("security 6 (unmount target moved, path swapped for a symlink or a decoy mount): 2 attacks, "
                + wrong + " wrong unmounts");
        assertThat(wrong).isZero();
    }

    /** 7: nothing is mounted over procfs or sysfs files inside the root. */
    @Test
    void nothingIsMountedInsideProcOrSys() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        try (Root r = Root.open(root.toString())) {
            Mounted proc = mount(r, "proc::/proc");
            Mounted sys = mount(r, "sysfs::/sys");
            try {
                for (String spec : List.of("tmpfs::/proc/sys", "bind:" + file + ":/proc/sysrq-trigger",
                        "bind:" + file + ":/proc/cmdline", "bind:" + file + ":/sys/kernel/new-file",
                        "bind:" + file + ":/proc/self/attr/current", "tmpfs::/sys/kernel", "proc::/proc")) {
                    assertThatThrownBy(() -> mount(r, spec)).as(spec).isInstanceOf(MountException.class)
                            .hasMessageMatching(".*(lies inside (procfs|sysfs)|magic link).*");
                }
            } finally {
                mounter.unmounter().unmount(r, sys);
                mounter.unmounter().unmount(r, proc);
            }
        }
        Figures.report("security 7 (mounts over procfs/sysfs files): 7 attacks, 0 mounted");
    }
}
