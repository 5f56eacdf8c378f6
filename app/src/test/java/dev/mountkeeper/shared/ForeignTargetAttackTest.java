package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security 26: a client of the daemon (uid 1001) cannot mount over a directory it could not write
 * to itself, whatever the policy's path prefix allows: another user's 0700 tree and what is in
 * it, another user's 0755 directory, a root-owned one, a sticky 1777 one, one reached through its
 * own symlink, or one swapped in for its own directory while it acquires (a tmpfs or an overlay,
 * whose flags must not land on the mount around it either). Nor can it hold another
 * user's mount, so that user (1002) still releases and sweeps its own.
 */
@Privileged
class ForeignTargetAttackTest {
    private static final int A = 1001, B = 1002;
    @TempDir Path dir;

    static Path dirOf(Path p, int uid, int mode) throws Exception {
        Files.createDirectories(p);
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", uid);
        Files.setAttribute(p, "unix:mode", mode);
        return p;
    }

    /** The mount {@code p} lies in, as the kernel's table shows it (flags and propagation included). */
    private static MountEntry mountOf(Path p) throws Exception {
        long id = FileSyscalls.statx(FileSyscalls.AT_FDCWD, p.toString(), 0, KernelFeatures.detect().statxMountIdMask()).mountId();
        return MountTable.of(KernelFeatures.detect()).read().stream().filter(e -> e.id() == id).findFirst().orElseThrow();
    }

    @Test
    void foreignTargetsAreRefusedAndAnotherUsersMountsStayTheirs() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = dirOf(dir.resolve("build"), 0, 0755);
        Path mine = dirOf(root.resolve("a"), A, 0755), victim = dirOf(root.resolve("b"), B, 0700);
        Path victimWork = dirOf(victim.resolve("work"), B, 0777), open = dirOf(root.resolve("bo"), B, 0755);
        Path rootOwned = dirOf(root.resolve("r"), 0, 0755), sticky = dirOf(root.resolve("tmp"), 0, 01777);
        Files.createSymbolicLink(mine.resolve("link"), Path.of("../bo"));
        Path lower = dirOf(dir.resolve("lower"), 0, 0755);
        String policy = "{\"rules\": [{\"users\": [\"" + A + "\", \"" + B + "\"], \"targets\": [\"" + root + "\"],"
                + " \"sources\": [\"" + lower + "\"], \"types\": [\"tmpfs\", \"proc\", \"overlay\"]}]}";
        int tried = 0, mounted = 0;
        try (HolderProcess ha = new HolderProcess(A); HolderProcess hb = new HolderProcess(B);
             DaemonProcess d = new DaemonProcess(dir, policy).start()) {
            record Case(String spec, String says) {}
            List<Case> cases = List.of(
                    new Case("tmpfs::" + victim, "belongs to uid 1002 and is not writable for uid 1001"),
                    new Case("tmpfs::" + victimWork, "out of reach of uid 1001"),
                    new Case("proc::" + victimWork, "out of reach of uid 1001"),
                    new Case("tmpfs::" + open, "belongs to uid 1002"),
                    new Case("tmpfs::" + rootOwned, "belongs to uid 0"),
                    new Case("tmpfs::" + sticky, "is a sticky directory of uid 0"),
                    new Case("tmpfs::" + mine.resolve("link"), "belongs to uid 1002"));
            for (Case c : cases) {
                String out = as(A, d.socket, "POST", "/v1/acquire", acquire("c", ha.pid(), c.spec()));
                assertThat(out).as(c.spec()).startsWith("403 ").contains(c.says());
                tried++;
                if (!mountsUnder(root).isEmpty()) mounted++;
            }
            // Its own directory, swapped for a symlink to another user's while it acquires: the mount
            // core checks the descriptor it mounts on, so each acquire lands in its own or nowhere.
            Path swap = mine.resolve("x");
            MountEntry around = mountOf(root);
            String swapper = String.join("\n", "import ctypes, os, sys",
                    "libc = ctypes.CDLL(None, use_errno=True); os.chdir(sys.argv[1])",
                    "os.symlink('../bo', 'y')",
                    "while not os.path.exists('stop'):",
                    "    libc.renameat2(-100, b'x', -100, b'y', 2)  # RENAME_EXCHANGE; EBUSY while mounted on",
                    "");
            Files.createDirectories(swap);
            Files.setAttribute(swap, "unix:uid", A);
            Process loop = new ProcessBuilder("setpriv", "--reuid=" + A, "--regid=" + A, "--clear-groups", "/usr/bin/python3",
                    "-c", swapper, mine.toString()).redirectErrorStream(true).start();
            int own = 0;
            try {
                String counts = runAs(A, d.socket, String.join("\n",
                        "tried = own = 0",
                        "for i in range(int(sys.argv[2])):",
                        "    spec = ('tmpfs::', 'overlay:' + sys.argv[3] + ':')[i % 2] + sys.argv[1]",
                        "    s, b = call('POST', '/v1/acquire', '{\"context\": \"r\", \"specs\": [\"' + spec + '\"]}')",
                        "    tried += 1",
                        "    if s == 200:",
                        "        own += 1",
                        "        call('POST', '/v1/release', '{\"context\": \"r\", \"all\": true}')",
                        "    elif s not in (400, 403, 500): print('unexpected', s, b); sys.exit(1)",
                        "print(tried, own)"), swap.toString(), "150", lower.toString());
                own = Integer.parseInt(counts.split(" ")[1]);
                tried += Integer.parseInt(counts.split(" ")[0]) - own;
            } finally {
                Files.writeString(mine.resolve("stop"), "");
                loop.waitFor();
            }
            // Nothing ever went onto the other user's directory (what went onto its own was released).
            assertThat(mountsUnder(open)).isEmpty();
            // Nor did the flags and propagation a mount gets go to the mount the directories lie in.
            assertThat(mountOf(root)).isEqualTo(around);
            if (!mountsUnder(root).isEmpty()) mounted++;

            // The other user's mount: not to be joined (pinned), released or swept by this one.
            Path theirs = dirOf(open.resolve("t"), B, 0755);
            assertThat(as(B, d.socket, "POST", "/v1/acquire", acquire("b", hb.pid(), "tmpfs::" + theirs))).startsWith("200 ");
            for (String[] c : List.of(
                    new String[] {"/v1/acquire", acquire("b", ha.pid(), "tmpfs::" + theirs), "403", "is mounted for uid 1002"},
                    new String[] {"/v1/acquire", acquire("c", ha.pid(), "tmpfs::" + theirs), "403", "is mounted for uid 1002"},
                    new String[] {"/v1/release", release("b", ha.pid(), "tmpfs::" + theirs), "200", "not held"},
                    // A context is a name anyone may use: A's sweep of "b" is of A's mounts in it, and passes over B's.
                    new String[] {"/v1/sweep", "{\"context\": \"b\"}", "200", "\"actions\": []"},
                    new String[] {"/v1/sweep", "{\"under\": \"" + open + "\"}", "403", "mounted or held by another user"})) {
                String out = as(A, d.socket, "POST", c[0], c[1]);
                assertThat(out).as(c[1]).startsWith(c[2] + " ").contains(c[3]);
                assertThat(mountsUnder(root)).containsExactly(theirs.toString());
                tried++;
            }
            assertThat(d.status().getContexts(0).getTargets(0).getHoldersList()).hasSize(1);
            // And its status does not show it the other user's mount.
            assertThat(as(A, d.socket, "GET", "/v1/status", "")).doesNotContain(theirs.toString());
            // The owner still releases its own, and sweeps its own.
            assertThat(as(B, d.socket, "POST", "/v1/release", release("b", hb.pid(), "tmpfs::" + theirs))).startsWith("200 ");
            assertThat(mountsUnder(root)).isEmpty();
            assertThat(as(B, d.socket, "POST", "/v1/acquire", acquire("b", hb.pid(), "tmpfs::" + theirs))).startsWith("200 ");
            assertThat(as(B, d.socket, "POST", "/v1/sweep", "{\"context\": \"b\"}")).startsWith("200 ");
            assertThat(mountsUnder(root)).isEmpty();
            System.out.println("swapped target: " + own + " acquires landed on the client's own directory");
        }
        assertThat(mounted).isZero();
        Figures.report("foreign targets tried " + tried + ", " + mounted + " mounted");
    }
}
