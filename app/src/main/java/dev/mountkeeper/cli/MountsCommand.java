package dev.mountkeeper.cli;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountInfo;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.mount.UniqueMountIds;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mounts", mixinStandardHelpOptions = true, header = "List the kernel's mount table, as findmnt does.",
        description = {"The mounts at or below PATH (default /), from /proc/thread-self/mountinfo,",
                "with their 64-bit ids from statmount where the kernel has it. A list is",
                "deepest first (the order to unmount in); --tree nests submounts as findmnt",
                "does. Exit status 1 if no mount matches."})
final class MountsCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PATH", description = "Only mounts at or below this path.")
    String path = "/";

    @Option(names = {"-o", "--output"}, paramLabel = "COLUMNS",
            description = "Comma-separated; \"+\" first adds to the default (TARGET,SOURCE,FSTYPE,OPTIONS). "
                    + "Columns: TARGET, SOURCE, FSTYPE, OPTIONS, VFS-OPTIONS, FS-OPTIONS, FSROOT, MAJ:MIN, OPT-FIELDS, "
                    + "PROPAGATION, ID (mountinfo's), PARENT, UNIQ-ID (the 64-bit id).")
    String output = "TARGET,SOURCE,FSTYPE,OPTIONS";

    @Option(names = {"-t", "--types"}, paramLabel = "TYPE[,TYPE]",
            description = "Only these filesystem types; \"no\" before the first negates the list (-t noproc,sysfs).")
    String types;

    @Option(names = {"-n", "--noheadings"}, description = "No header line.") boolean noHeadings;
    @Option(names = {"-r", "--raw"}, description = "Unaligned, blanks and backslashes as \\xHH; never a tree.") boolean raw;
    @Option(names = "--tree", description = "Submounts below their mount (in TARGET, or \"children\" in JSON).") boolean tree;
    @Option(names = {"-a", "--ascii"}, description = "Draw the tree with ASCII characters.") boolean ascii;
    @Option(names = {"-J", "--json"}, description = "findmnt's JSON: {\"filesystems\": [...]}, keys the columns' names in lower case.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<MountColumn> columns = MountColumn.parse(output);
        String p = Path.of(path).toAbsolutePath().normalize().toString();
        Map<Integer, Long> unique = UniqueMountIds.read(KernelFeatures.current());
        List<MountColumn.Row> rows = new ArrayList<>();
        for (MountInfo m : MountInfo.read()) {
            if (SpecPaths.isAtOrBelow(m.mountPoint(), p) && typeMatches(m.fsType())) rows.add(new MountColumn.Row(m, unique.get(m.id())));
        }
        if (rows.isEmpty()) return 1;
        MountForest forest = MountForest.of(rows);
        PrintWriter out = spec.commandLine().getOut();
        if (json) out.println(tree ? new Json(columns).tree(forest) : new Json(columns).list(forest.deepestFirst()));
        else if (tree && !raw) new MountsText(columns, !noHeadings, false).tree(out, forest, ascii);
        else new MountsText(columns, !noHeadings, raw).list(out, forest.deepestFirst());
        out.flush();
        return 0;
    }

    /** mount(8)'s -t: a list of types, or with "no" before the first, every type but those. */
    private boolean typeMatches(String fsType) {
        if (types == null) return true;
        boolean negated = types.startsWith("no");
        Set<String> names = new HashSet<>();
        Set<String> excluded = new HashSet<>();
        for (String t : types.split(",")) {
            if (t.startsWith("no")) excluded.add(t.substring(2));
            else names.add(t);
        }
        if (negated) return !excluded.contains(fsType) && !names.contains(fsType);
        return names.contains(fsType) && !excluded.contains(fsType);
    }
}
