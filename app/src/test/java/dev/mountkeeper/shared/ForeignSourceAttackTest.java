package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ForeignTargetAttackTest.dirOf;
import static dev.mountkeeper.shared.Requests.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security 27: a client of the daemon (uid 1001) cannot bind or overlay a source it could not
 * open itself, though the policy allows the directory it lies in: another user's (1002) file in
 * a 0700 directory, a lower in it, that directory itself as a lower, a magic link to one of the
 * daemon's descriptors, and its own symlink exchanged for a file (and its own lower for a
 * directory) while it acquires. After each, it tries to read the secret through its target.
 */
@Privileged
class ForeignSourceAttackTest {
    private static final int A = 1001, B = 1002;
    private static final String SECRET = "secret of uid 1002";
    @TempDir Path dir;

    /** What uid A reads at {@code file}: its text, or "denied". */
    private static String readAsA(DaemonProcess d, Path file) throws Exception {
        return runAs(A, d.socket, String.join("\n", "try: print(open(sys.argv[1]).read().strip())",
                "except OSError: print('denied')"), file.toString());
    }

    @Test
    void sourcesAreOpenedWithTheClientsRights() throws Exception {
        dirOf(dir, 0, 0755);
        Path src = dirOf(dir.resolve("src"), 0, 0755), theirs = dirOf(src.resolve("b"), B, 0700);
        Path lower = dirOf(theirs.resolve("lower"), B, 0755), own = dirOf(src.resolve("a"), A, 0755);
        for (Path f : List.of(theirs.resolve("secret"), lower.resolve("secret"))) {
            Files.writeString(f, SECRET + "\n");
            Files.setAttribute(f, "unix:uid", B);
        }
        Path root = dirOf(dir.resolve("build"), 0, 0755), target = dirOf(root.resolve("a"), A, 0755);
        Path fileTarget = Files.writeString(root.resolve("af"), "");
        Files.setAttribute(fileTarget, "unix:uid", A);
        String policy = "{\"rules\": [{\"users\": [\"" + A + "\"], \"targets\": [\"" + root + "\"], \"sources\": [\"" + src
                + "\"], \"types\": [\"bind\", \"ro-bind\", \"rbind\", \"overlay\"]}]}";
        int tried = 0, readable = 0;
        try (HolderProcess ha = new HolderProcess(A); DaemonProcess d = new DaemonProcess(dir, policy).start()) {
            record Case(String spec, String code, String says, Path read) {}
            List<Case> cases = List.of(
                    new Case("bind:" + theirs.resolve("secret") + ":" + fileTarget, "403", "out of reach of uid 1001", fileTarget),
                    new Case("ro-bind:" + lower + ":" + target, "403", "out of reach of uid 1001", target.resolve("secret")),
                    new Case("overlay:" + lower + ":" + target, "403", "out of reach of uid 1001", target.resolve("secret")),
                    new Case("overlay:" + own + "+" + lower + ":" + target, "403", "out of reach", target.resolve("secret")),
                    new Case("overlay:" + theirs + ":" + target, "403", "is not readable for uid 1001", target.resolve("secret")),
                    new Case("bind:/proc/self/fd/0:" + fileTarget, "400", "magic link", fileTarget),
                    // Reachable, so it may be bound: but the copy keeps the directory's 0700, and the secret stays closed.
                    new Case("bind:" + theirs + ":" + target, "200", "", target.resolve("secret")));
            for (Case c : cases) {
                String out = as(A, d.socket, "POST", "/v1/acquire", acquire("c", ha.pid(), c.spec()));
                assertThat(out).as(c.spec()).startsWith(c.code() + " ").contains(c.says());
                tried++;
                if (readAsA(d, c.read()).contains(SECRET)) readable++;
                assertThat(as(A, d.socket, "POST", "/v1/release", releaseAll("c", ha.pid()))).startsWith("200 ");
                assertThat(mountsUnder(root)).as(c.spec()).isEmpty();
            }
            // Its own symlink, exchanged with its own file, and its own lower with a symlink to the
            // other user's, while it acquires: each source is opened once, as it, and that is what is mounted.
            Files.writeString(own.resolve("link"), "mine\n");
            Files.createDirectories(own.resolve("lower"));
            Files.writeString(own.resolve("lower/secret"), "mine\n");
            String swapper = String.join("\n", "import ctypes, os, sys",
                    "libc = ctypes.CDLL(None, use_errno=True); os.chdir(sys.argv[1])",
                    "os.symlink('../b/secret', 'link.other'); os.symlink('../b/lower', 'lower.other')",
                    "while not os.path.exists('stop'):",
                    "    libc.renameat2(-100, b'link', -100, b'link.other', 2)  # RENAME_EXCHANGE",
                    "    libc.renameat2(-100, b'lower', -100, b'lower.other', 2)",
                    "");
            for (Path p : List.of(own.resolve("link"), own.resolve("lower"), own.resolve("lower/secret"))) {
                Files.setAttribute(p, "unix:uid", A);
            }
            Process loop = new ProcessBuilder("setpriv", "--reuid=" + A, "--regid=" + A, "--clear-groups", "/usr/bin/python3",
                    "-c", swapper, own.toString()).redirectErrorStream(true).start();
            try {
                String counts = runAs(A, d.socket, String.join("\n",
                        "tried = leaked = ok = 0",
                        "for i in range(int(sys.argv[5])):",
                        "    for spec, read in (('bind:' + sys.argv[1] + ':' + sys.argv[2], sys.argv[2]),",
                        "                       ('overlay:' + sys.argv[3] + ':' + sys.argv[4], sys.argv[4] + '/secret')):",
                        "        s, b = call('POST', '/v1/acquire', '{\"context\": \"r\", \"specs\": [\"' + spec + '\"]}')",
                        "        tried += 1; ok += s == 200",
                        "        try:",
                        "            if " + "'" + SECRET + "'" + " in open(read).read(): leaked += 1",
                        "        except OSError: pass",
                        "        call('POST', '/v1/release', '{\"context\": \"r\", \"all\": true}')",
                        "print(tried, leaked, ok)"), own.resolve("link").toString(), fileTarget.toString(), own.resolve("lower").toString(),
                        target.toString(), "100");
                tried += Integer.parseInt(counts.split(" ")[0]);
                readable += Integer.parseInt(counts.split(" ")[1]);
                // Some acquires caught its own file or lower: the race was run, not refused wholesale.
                assertThat(Integer.parseInt(counts.split(" ")[2])).as("acquires of its own sources").isPositive();
            } finally {
                Files.writeString(own.resolve("stop"), "");
                loop.waitFor();
            }
            assertThat(mountsUnder(root)).isEmpty();
        }
        assertThat(readable).isZero();
        Figures.report("sources tried " + tried + ", " + readable + " readable");
    }
}
