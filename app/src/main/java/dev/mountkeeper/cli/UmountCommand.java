package dev.mountkeeper.cli;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.UnmountPolicy;
import dev.mountkeeper.mount.Unmounter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "umount", mixinStandardHelpOptions = true, header = "Unmount mount points inside a root directory.",
        description = {"Unmount the mount on each DEST inside DIR, with everything mounted below it,",
                "deepest first. Each unmount goes through its parent directory's fd and checks the",
                "mount id, so a path swapped for a symlink meanwhile is refused. A busy mount is",
                "retried with backoff, then reported with the processes that hold it."})
final class UmountCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "The directory DESTs are inside.")
    String root;

    @Option(names = "--lazy", description = "When still busy after the retries, detach lazily (MNT_DETACH) and say so.")
    boolean lazy;

    @Parameters(arity = "1..*", paramLabel = "DEST", description = "Mount points, as paths inside DIR.")
    List<String> dests;

    @Override
    public Integer call() throws Exception {
        Unmounter unmounter = new Unmounter(KernelFeatures.current(), UnmountPolicy.DEFAULT);
        try (Root r = Root.open(root)) {
            for (String dest : dests) {
                Unmounter.Outcome o = unmounter.unmountPath(r, dest, UnmountPolicy.DEFAULT.withLazy(lazy));
                spec.commandLine().getOut().println(r.hostPath(dest) + ": "
                        + (o == Unmounter.Outcome.DETACHED_LAZILY ? "busy, detached lazily" : "unmounted"));
            }
        }
        return 0;
    }
}
