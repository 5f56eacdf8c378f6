package dev.mountkeeper.cli;

import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Mounted;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.UnmountPolicy;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mount", mixinStandardHelpOptions = true, header = "Mount specs inside a root directory.",
        description = {"Mount SPECs inside DIR, in order. Destinations resolve inside DIR (symlinks",
                "cannot lead out of it); if one spec fails, the ones before it are undone.",
                "",
                "SPEC is TYPE:SOURCE:DEST[:OPTIONS]; write ':' and '\\' inside a field as '\\:' and '\\\\'.",
                "Types: bind, rbind, pbind, ro-bind, proc, sysfs, tmpfs, devpts, mqueue, dev, dir, symlink.",
                "Options: ro, nosuid, nodev, noexec, private, slave, shared, recursive, try, size=N[kmg], mode=OCTAL.",
                "Examples: proc::/proc  ro-bind:/usr:/usr  tmpfs::/tmp:size=64m,mode=1777  symlink:usr/lib:/lib"})
final class MountCommand implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "The directory the specs are applied in.")
    String root;

    @Option(names = "--no-create", description = "Fail when a destination is missing, instead of creating it inside DIR.")
    boolean noCreate;

    @Parameters(arity = "1..*", paramLabel = "SPEC", description = "Mount specs.")
    List<String> specs;

    @Override
    public Integer call() throws Exception {
        List<MountSpec> parsed = MountSpecs.parseAll(specs); // all of them first: a bad one mounts nothing
        Mounter mounter = new Mounter(KernelFeatures.current(), !noCreate, UnmountPolicy.DEFAULT);
        try (Root r = Root.open(root)) {
            for (Mounted m : mounter.mountAll(r, parsed)) {
                spec.commandLine().getOut().println(MountSpecs.format(m.spec()) + " -> " + r.hostPath(m.path())
                        + (m.isMount() ? " (mount " + m.mountId() + ")" : ""));
            }
        }
        return 0;
    }
}
