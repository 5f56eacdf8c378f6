package dev.mountkeeper.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An unprivileged client of the daemon: Python's standard library run as another uid through
 * setpriv, so the daemon sees that uid in the socket's peer credentials. The requesting process
 * is the holder (pid 0).
 */
final class DaemonPeer {
    /** One request; prints "STATUS MILLIS BODY", the time measured around the request alone. */
    private static final String ONE = String.join("\n", "import socket, sys, time",
            "body = open(sys.argv[4], 'rb').read() if sys.argv[4] else b''",
            "head = '%s %s HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n"
                    + "Connection: close\\r\\n\\r\\n' % (sys.argv[2], sys.argv[3], len(body))",
            "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
            "t = time.monotonic()",
            "try:",
            "    s.sendall(head.encode() + body)",
            "except OSError:",
            "    pass  # refused before it was all sent: the answer is still there to read",
            "data = b''",
            "while True:",
            "    try:",
            "        chunk = s.recv(65536)",
            "    except OSError:",
            "        break",
            "    if not chunk: break",
            "    data += chunk",
            "ms = round((time.monotonic() - t) * 1000)",
            "status, _, rest = data.partition(b'\\r\\n')",
            "print(status.split(b' ')[1].decode() if status else '000', ms, rest.partition(b'\\r\\n\\r\\n')[2].decode().replace('\\n', ' '))");

    /** Status, acquire and release of a tmpfs, in a loop: "OP STATUS MILLIS" per answer. */
    private static final String PROBE = String.join("\n", "import http.client, json, socket, sys, time",
            "def req(method, path, body=None):",
            "    c = http.client.HTTPConnection('x', timeout=600)",
            "    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); c.sock = s",
            "    t = time.monotonic()",
            "    c.request(method, path, body=json.dumps(body).encode() if body else None)",
            "    r = c.getresponse(); r.read(); c.close()",
            "    return r.status, round((time.monotonic() - t) * 1000)",
            "spec = {'context': 'probe', 'specs': ['tmpfs::' + sys.argv[2]]}",
            "while True:",
            "    for op, method, path, body in (('status', 'GET', '/v1/status', None), ('acquire', 'POST', '/v1/acquire', spec),",
            "                                   ('release', 'POST', '/v1/release', spec)):",
            "        st, ms = req(method, path, body)",
            "        print(op, st, ms, flush=True)",
            "    time.sleep(0.02)");

    private final Path socket;
    private final int uid;

    DaemonPeer(Path socket, int uid) {
        this.socket = socket;
        this.uid = uid;
    }

    int uid() { return uid; }

    List<String> python(String script, String... args) {
        List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "/usr/bin/python3", "-c", script));
        argv.addAll(List.of(args));
        return argv;
    }

    Process start(String script, String... args) throws IOException {
        return new ProcessBuilder(python(script, args)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** A request started now, answered when the daemon answers it. */
    Process send(String method, String path, String body, Path scratch) throws IOException {
        Path file = scratch.resolve("body-" + uid + "-" + System.nanoTime() + ".json");
        java.nio.file.Files.writeString(file, body == null ? "" : body);
        file.toFile().setReadable(true, false);
        return start(ONE, socket.toString(), method, path, body == null ? "" : file.toString());
    }

    /** Its answer: "STATUS MILLIS BODY". */
    static String answer(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    String call(String method, String path, String body, Path scratch) throws Exception {
        return answer(send(method, path, body, scratch));
    }

    /** Runs the probe loop on {@code target} (a tmpfs this peer may mount) until closed. */
    Probe probe(Path target) throws IOException {
        return new Probe(start(PROBE, socket.toString(), target.toString()));
    }

    /** The second user's answers, as they come. */
    static final class Probe implements AutoCloseable {
        record Answer(long at, String op, int status, long millis) {}

        private final Process process;
        private final List<Answer> answers = new ArrayList<>();
        private final Thread reader;

        Probe(Process process) {
            this.process = process;
            this.reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        String[] f = line.split(" ");
                        synchronized (answers) {
                            answers.add(new Answer(System.nanoTime(), f[0], Integer.parseInt(f[1]), Long.parseLong(f[2])));
                        }
                    }
                } catch (IOException ended) {
                    // the probe was closed
                }
            });
        }

        /** How many answers came so far: a mark for {@link #since}. */
        int mark() {
            synchronized (answers) {
                return answers.size();
            }
        }

        List<Answer> since(int mark) {
            synchronized (answers) {
                return List.copyOf(answers.subList(mark, answers.size()));
            }
        }

        /** Waits until {@code n} more answers came after {@code mark} (polling the count, not a fixed sleep). */
        void awaitAnswers(int mark, int n, String during) throws InterruptedException {
            dev.mountkeeper.shared.Requests.waitUntil(() -> since(mark).size() >= n, n + " answers to the second user during " + during);
        }

        /** The slowest answer after {@code mark}, all of them 200. */
        long slowestSince(int mark) {
            List<Answer> s = since(mark);
            assertThat(s).as("answers to the second user").isNotEmpty().allSatisfy(a -> assertThat(a.status()).as(a.toString()).isEqualTo(200));
            return s.stream().mapToLong(Answer::millis).max().orElseThrow();
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor();
                reader.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
