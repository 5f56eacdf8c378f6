package dev.mountkeeper.cli;

import dev.mountkeeper.shared.DaemonClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The shared-mount daemon's clients: acquire, release, status, sweep. */
final class SharedCommands {
    private SharedCommands() {}

    @Command(name = "acquire", mixinStandardHelpOptions = true,
            header = "Take references to shared mounts, mounting what is not mounted yet.",
            description = {"Each SPEC (TYPE:SOURCE:DEST[:OPTIONS]) is mounted on its first acquire; the",
                    "reference belongs to the holder and goes when it is released or the holder ends."})
    static final class Acquire implements Callable<Integer> {
        @Spec picocli.CommandLine.Model.CommandSpec spec;
        @Mixin ClientOptions client;
        @Option(names = "--context", required = true, paramLabel = "NAME") String context;
        @Option(names = "--holder", paramLabel = "PID", description = "The holding process (default: the one that ran this command).")
        Long holder;
        @Option(names = "--build-id", paramLabel = "ID") String buildId;
        @Parameters(paramLabel = "SPEC", arity = "1..*") List<String> specs;

        @Override
        public Integer call() throws Exception {
            String body = ClientRequests.acquire(context, holder, buildId, specs);
            return client.finish(spec.commandLine(), "acquire", client.call("POST", "/v1/acquire", body), JsonText::outcome);
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            header = "Give back references; a target whose last reference goes is unmounted.")
    static final class Release implements Callable<Integer> {
        @Spec picocli.CommandLine.Model.CommandSpec spec;
        @Mixin ClientOptions client;
        @Option(names = "--context", required = true, paramLabel = "NAME") String context;
        @Option(names = "--holder", paramLabel = "PID") Long holder;
        @ArgGroup(multiplicity = "1") What what;

        static final class What {
            @Option(names = "--all", description = "Everything the holder holds in the context.") boolean all;
            @Parameters(paramLabel = "SPEC") List<String> specs = new ArrayList<>();
        }

        @Override
        public Integer call() throws Exception {
            String body = ClientRequests.release(context, holder, what.all, what.specs);
            DaemonClient.Reply r = client.call("POST", "/v1/release", body);
            int code = client.finish(spec.commandLine(), "release", r, JsonText::outcome);
            if (holder == null && r.status() == 200 && r.body().contains("not held: ")) {
                // A shell that execs its last command (bash -c '...; mountkeeper release ...') makes its own
                // parent this command's parent: the default holder is then not the one that acquired.
                var err = spec.commandLine().getErr();
                err.println("mountkeeper release: hint: the holder was this command's parent, pid " + ClientRequests.parentPid()
                        + "; a shell that runs it as its last command (bash -c '...; mountkeeper release ...') may have"
                        + " exec'd it, so that is not the shell that acquired: give --holder PID");
                err.flush();
            }
            return code;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, header = "Show contexts, targets, mounts and holders.")
    static final class Status implements Callable<Integer> {
        @Spec picocli.CommandLine.Model.CommandSpec spec;
        @Mixin ClientOptions client;
        @Option(names = "--context", paramLabel = "NAME") String context;

        @Override
        public Integer call() throws Exception {
            String uri = context == null ? "/v1/status" : "/v1/status?context=" + URLEncoder.encode(context, StandardCharsets.UTF_8);
            return client.finish(spec.commandLine(), "status", client.call("GET", uri, null), JsonText::status);
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            header = "Unmount everything of a context, or everything under a path, whoever holds it.")
    static final class Sweep implements Callable<Integer> {
        @Spec picocli.CommandLine.Model.CommandSpec spec;
        @Mixin ClientOptions client;
        @ArgGroup(multiplicity = "1") Which which;
        @Option(names = "--report-only", description = "Say what would be unmounted; change nothing.") boolean reportOnly;
        @Option(names = "--once", paramLabel = "KEY", description = "Do nothing if a sweep with this key was done already.")
        String once;

        static final class Which {
            @Option(names = "--context", paramLabel = "NAME") String context;
            @Option(names = "--under", paramLabel = "PATH") String under;
        }

        @Override
        public Integer call() throws Exception {
            String body = ClientRequests.sweep(which.context, which.under, reportOnly, once);
            return client.finish(spec.commandLine(), "sweep", client.call("POST", "/v1/sweep", body), JsonText::outcome);
        }
    }
}
