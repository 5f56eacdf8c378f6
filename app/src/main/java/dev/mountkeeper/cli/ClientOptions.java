package dev.mountkeeper.cli;

import dev.mountkeeper.shared.DaemonClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** What every client command shares: the socket, and how a reply becomes output and an exit status. */
final class ClientOptions {
    @Option(names = "--socket", paramLabel = "PATH", defaultValue = "${env:MOUNTKEEPER_SOCKET:-/run/mountkeeper/daemon.sock}",
            description = "The daemon's socket (default: $MOUNTKEEPER_SOCKET, else /run/mountkeeper/daemon.sock).")
    Path socket;

    @Option(names = "--json", description = "Print the daemon's JSON answer as it is.")
    boolean json;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "0",
            description = "How long to keep trying while the daemon's socket is missing or refuses connections, as while"
                    + " it restarts (default: ${DEFAULT-VALUE}: say why at once).")
    double waitSeconds;

    DaemonClient.Reply call(String method, String uri, String body) throws IOException {
        return DaemonClient.call(socket, method, uri, body, Duration.ofMillis((long) (waitSeconds * 1000)));
    }

    /** Prints the reply; 0 for success, 2 for a refused request (4xx), 1 for the daemon's failure. */
    int finish(CommandLine cl, String name, DaemonClient.Reply r, java.util.function.Function<String, String> human) {
        PrintWriter out = cl.getOut(), err = cl.getErr();
        if (r.status() == 200) {
            out.print(json ? r.body() : human.apply(r.body()));
            out.flush();
            return 0;
        }
        err.println("mountkeeper " + name + ": " + (json ? r.body().strip() : JsonText.error(r.body())));
        err.flush();
        return r.status() < 500 ? 2 : 1;
    }
}
