package dev.mountkeeper.security;

import static dev.mountkeeper.shared.Requests.mountsUnder;
import static dev.mountkeeper.shared.Requests.unchecked;
import static dev.mountkeeper.shared.Requests.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.shared.DaemonProcess;
import dev.mountkeeper.testing.Figures;
import dev.mountkeeper.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security test 28: one user cannot freeze the daemon for another. User A (uid 65534) sends a huge
 * request, holds mounts up to the limit and exits, parks requests on a FUSE filesystem that never
 * answers, and opens idle and half-sent connections; meanwhile user B (uid 65533) asks for status
 * and acquires and releases a tmpfs in a loop, and each of B's answers is timed.
 */
@Privileged
class DaemonAvailabilityTest {
    private static final int A = 65534, B = 65533;
    /** "Not frozen", generously: no answer to B may take this long. Speed itself is not asserted. */
    private static final long NOT_FROZEN_MS = 5000;

    @TempDir Path dir;

    @Test
    void oneUserCannotFreezeTheDaemonForAnother() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = Files.createDirectories(dir.resolve("root"));
        Path ua = owned(root.resolve("a"), A), ub = owned(root.resolve("b"), B);
        Path probeTarget = owned(ub.resolve("t"), B);
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxrwxrwx"));
        String policy = "{\"rules\": [{\"users\": [\"" + A + "\", \"" + B + "\"], \"targets\": [\"" + root + "\"],"
                + " \"types\": [\"tmpfs\"]}], \"limits\": {\"idle_timeout_ms\": 3000, \"request_timeout_ms\": 2000}}";
        Map<String, Long> slowest = new LinkedHashMap<>();
        List<String> refusals = new ArrayList<>();
        try (DaemonProcess d = new DaemonProcess(dir, policy).start()) {
            DaemonPeer a = new DaemonPeer(d.socket, A), b = new DaemonPeer(d.socket, B);
            try (DaemonPeer.Probe probe = b.probe(probeTarget)) {
                probe.awaitAnswers(0, 3, "the start");

                // 1. A huge request: refused by the body limit, and one spec over the per-request limit by that.
                int m = probe.mark();
                String huge = a.call("POST", "/v1/acquire", acquire(IntStream.range(0, 10_000).mapToObj(i -> ua.resolve("d" + i))
                        .toList()), scratch);
                assertThat(huge).startsWith("413 ").contains("larger than");
                String over = a.call("POST", "/v1/acquire", acquire(IntStream.range(0, 65).mapToObj(i -> ua.resolve("d" + i))
                        .toList()), scratch);
                assertThat(over).startsWith("400 ").contains("65 specs").contains("specs_per_request");
                refusals.add("10,000 specs: 413; 65 specs: 400");
                probe.awaitAnswers(m, 3, "the huge requests");
                slowest.put("huge request", probe.slowestSince(m));

                // 2. Mounts up to the per-user limit, one more refused; then the holder exits and all are reclaimed.
                m = probe.mark();
                List<Path> targets = new ArrayList<>();
                for (int i = 0; i < 1025; i++) targets.add(owned(ua.resolve("m" + i), A));
                Process holder = new ProcessBuilder(a.python("import sys, time\nprint('ready', flush=True)\n"
                        + "import http.client, json, socket\n"
                        + "for chunk in json.load(open(sys.argv[2])):\n"
                        + "    c = http.client.HTTPConnection('x', timeout=600)\n"
                        + "    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); c.sock = s\n"
                        + "    c.request('POST', '/v1/acquire', body=json.dumps({'context': 'a', 'specs': chunk}).encode())\n"
                        + "    r = c.getresponse(); b = r.read().decode(); print(r.status, b.replace('\\n', ' ')[:300], flush=True)\n"
                        + "time.sleep(3600)\n", d.socket.toString(), chunks(targets, scratch).toString())).start();
                var out = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()));
                try {
                    assertThat(out.readLine()).isEqualTo("ready");
                    for (int i = 0; i < 16; i++) assertThat(out.readLine()).startsWith("200 ");
                    String more = out.readLine();
                    assertThat(more).startsWith("429 ").contains("limit is 1024").contains("mounts_per_user");
                    refusals.add("mount 1025: 429");
                    assertThat(mountsUnder(ua)).hasSize(1024);
                    probe.awaitAnswers(m, 3, "acquiring 1024 mounts");
                } finally {
                    holder.destroyForcibly();
                    holder.waitFor();
                }
                int reclaimMark = probe.mark();
                long t0 = System.nanoTime();
                waitUntil(() -> unchecked(ua).isEmpty(), "the exited holder's 1024 mounts to be reclaimed");
                long reclaimMs = (System.nanoTime() - t0) / 1_000_000;
                probe.awaitAnswers(reclaimMark, 1, "the reclaim");
                slowest.put("1024 mounts held, then reclaimed (" + reclaimMs + " ms, " + probe.since(reclaimMark).size()
                        + " answers to B meanwhile)", probe.slowestSince(m));

                // 3. Requests parked on a FUSE filesystem of A's that never answers (allow_other).
                m = probe.mark();
                Path fuse = owned(ua.resolve("fuse"), A);
                Fd dev = FileSyscalls.openat(FileSyscalls.AT_FDCWD, "/dev/fuse", FileSyscalls.O_RDWR, 0);
                Process onRoot, inside;
                try {
                    MountSyscalls.mount("mk-never", fuse.toString(), "fuse", MountSyscalls.MS_NOSUID | MountSyscalls.MS_NODEV,
                            "fd=" + dev.get() + ",rootmode=40000,user_id=" + A + ",group_id=" + A + ",allow_other");
                    onRoot = a.send("POST", "/v1/acquire", acquire(List.of(fuse)), scratch);      // stuck mounting
                    inside = a.send("POST", "/v1/acquire", acquire(List.of(fuse.resolve("x"))), scratch); // stuck resolving
                    probe.awaitAnswers(m, 6, "requests stuck on a FUSE filesystem");
                    assertThat(onRoot.isAlive()).as("the request on the FUSE root is still stuck").isTrue();
                    assertThat(inside.isAlive()).as("the request inside the FUSE filesystem is still stuck").isTrue();
                    slowest.put("FUSE target that never answers", probe.slowestSince(m));
                } finally {
                    dev.close(); // aborts the connection: whatever waits on it fails with ENOTCONN
                    try {
                        MountSyscalls.umount2(fuse.toString(), MountSyscalls.MNT_DETACH);
                    } catch (ErrnoException notMounted) {
                        // the mount itself failed
                    }
                }
                assertThat(onRoot.waitFor(30, TimeUnit.SECONDS) && inside.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(DaemonPeer.answer(onRoot)).doesNotStartWith("200 ");
                assertThat(DaemonPeer.answer(inside)).doesNotStartWith("200 ");

                // 4. Idle and half-sent connections: up to the per-uid limit, the rest refused; the daemon closes them.
                m = probe.mark();
                Process flood = a.start(FLOOD, d.socket.toString(), "40");
                var floodOut = new java.io.BufferedReader(new java.io.InputStreamReader(flood.getInputStream()));
                String opened = floodOut.readLine();
                assertThat(opened).isEqualTo("open 16 refused 24");
                probe.awaitAnswers(m, 3, "40 idle and half-sent connections");
                String closed = floodOut.readLine();
                assertThat(closed).startsWith("closed 16 ");
                assertThat(flood.waitFor(30, TimeUnit.SECONDS)).isTrue();
                refusals.add("connections 17-40: 429, the 16 open ones closed by the daemon (" + closed.split(" ")[2] + ")");
                slowest.put("40 idle and half-sent connections", probe.slowestSince(m));
            }
            // The probe may die with an acquire in flight: the daemon mounts it, finds the holder gone and
            // unmounts it again. Nothing is left once the daemon tracks no target (not only none mounted).
            waitUntil(() -> unchecked(root).isEmpty() && tracksNothing(d), "the probe's mount to go with it");
        }
        slowest.forEach((what, ms) -> assertThat(ms).as("slowest answer to B during: " + what).isLessThan(NOT_FROZEN_MS));
        assertThat(mountsUnder(dir)).isEmpty();
        Figures.report("daemon attacked by one user, slowest answer to a second user: " + slowest.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue() + " ms").collect(Collectors.joining("; "))
                + " (refused: " + String.join("; ", refusals) + ")");
    }

    /** Opens N connections, half of them sending part of a request; "open K refused R", then "closed K AFTERms". */
    private static final String FLOOD = String.join("\n", "import select, socket, sys, time",
            "socks = []",
            "for i in range(int(sys.argv[2])):",
            "    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
            "    if i % 2: s.send(b'POST /v1/acquire HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\n{')",
            "    socks.append(s)",
            "time.sleep(0.5)",
            "open_, refused = [], 0",
            "for s in socks:",
            "    r, _, _ = select.select([s], [], [], 0)",
            "    if r:",
            "        try:",
            "            data = s.recv(65536)",
            "        except OSError:",
            "            data = b''",
            "        if data and not data.startswith(b'HTTP/1.1 429'): print('unexpected', data); sys.exit(1)",
            "        refused += 1",
            "    else:",
            "        open_.append(s)",
            "print('open', len(open_), 'refused', refused, flush=True)",
            "t = time.monotonic(); left = list(open_)",
            "while left and time.monotonic() - t < 20:",
            "    r, _, _ = select.select(left, [], [], 1)",
            "    for s in r:",
            "        try:",
            "            s.recv(65536)",
            "        except OSError:",
            "            pass",
            "        left.remove(s)",
            "print('closed', len(open_) - len(left), '%dms' % ((time.monotonic() - t) * 1000), flush=True)");

    private static String acquire(List<Path> targets) {
        return "{\"context\": \"a\", \"specs\": [" + targets.stream().map(t -> "\"tmpfs::" + t + "\"")
                .collect(Collectors.joining(", ")) + "]}";
    }

    /** The targets as a JSON list of spec lists of 64 (the last one of 1). */
    private static Path chunks(List<Path> targets, Path scratch) throws Exception {
        List<String> lists = new ArrayList<>();
        for (int i = 0; i < targets.size(); i += 64) {
            lists.add(targets.subList(i, Math.min(targets.size(), i + 64)).stream().map(t -> "\"tmpfs::" + t + "\"")
                    .collect(Collectors.joining(", ", "[", "]")));
        }
        Path f = Files.writeString(scratch.resolve("chunks.json"), "[" + String.join(", ", lists) + "]");
        f.toFile().setReadable(true, false);
        return f;
    }

    private static Path owned(Path p, int uid) throws Exception {
        Files.createDirectories(p);
        Files.setAttribute(p, "unix:uid", uid);
        Files.setAttribute(p, "unix:gid", uid);
        return p;
    }

    private static boolean tracksNothing(DaemonProcess d) {
        try {
            return d.status().getContextsList().stream().allMatch(c -> c.getTargetsCount() == 0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
