package dev.mountkeeper.cli;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountEntry;
import dev.mountkeeper.mount.MountTable;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mounts", mixinStandardHelpOptions = true, header = "List the kernel's mount table.",
        description = {"List the kernel's mounts at or below PATH (default /), deepest first: the order",
                "they would be unmounted in. Read with listmount/statmount where the kernel has them,",
                "else from /proc/thread-self/mountinfo."})
final class MountsCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PATH", description = "Only mounts at or below this path.")
    String path = "/";

    @Option(names = "--json", description = "Print a JSON array of objects instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String p = Path.of(path).toAbsolutePath().normalize().toString();
        KernelFeatures f = KernelFeatures.current();
        List<MountEntry> mounts = MountTable.below(MountTable.of(f).read(), p);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.mounts(mounts));
            return 0;
        }
        out.printf("%-20s %-20s %-22s %-10s %-12s %s%n", "ID", "PARENT", "FLAGS", "TYPE", "PROPAGATION", "MOUNTPOINT (SOURCE)");
        for (MountEntry e : mounts) {
            out.printf("%-20d %-20d %-22s %-10s %-12s %s (%s)%n", e.id(), e.parentId(), e.flags(),
                    e.fsType(), e.propagation(), e.mountPoint(), e.source());
        }
        return 0;
    }
}
