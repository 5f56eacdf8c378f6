package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.config.ApplicationConfiguration;
import dev.mountkeeper.mount.KernelFeatures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builds the runner a configuration asks for: the one place where decorators are composed. */
public final class Runners {
    private Runners() {}

    /**
     * From the inside out: actions in sandboxes (LocalRunner); readiness only where mounting works
     * (MountCheckingRunner, when mounts are configured); readiness_checking_pathnames; the cleaners,
     * run when the runner becomes busy or idle; metrics around everything.
     */
    static Runner fromConfig(RunnerConfig config, BuildDirectory buildDirectory, KernelFeatures features,
                             MetricsRunner.Metrics metrics) {
        ApplicationConfiguration c = config.proto();
        LocalRunner.Options options = new LocalRunner.Options(c.getChrootIntoInputRoot(), config.mounts(),
                c.getSetTmpdirEnvironmentVariable(), c.getSymlinkTemporaryDirectoriesList(), c.getKeepCapabilities(),
                c.getCreateMountpoints());
        boolean sandboxed = options.chroot() || !options.mounts().isEmpty() || !options.tmpdirMounts().isEmpty();
        boolean namespaces = MountCheckingRunner.namespacesWork();
        Runner r;
        // Unprivileged and asked for nothing that needs a namespace: run actions as bb_runner does.
        if (!sandboxed && !namespaces) r = new HostRunner(buildDirectory, options.setTmpdir());
        else r = new LocalRunner(buildDirectory, options, ActionCommand.forChroot(options.chroot()), features, metrics);
        // Readiness says so when actions could not get their namespaces or mounts.
        if (!config.mounts().isEmpty() || (sandboxed && !namespaces)) r = new MountCheckingRunner(r, config.mounts());
        if (c.getReadinessCheckingPathnamesCount() > 0) {
            r = new PathExistenceCheckingRunner(r, c.getReadinessCheckingPathnamesList().stream().map(Path::of).toList());
        }
        List<Cleaner> cleaners = new ArrayList<>();
        // clean_process_table needs no cleaner: every action has its own pid namespace, and nothing
        // it started survives it.
        for (String dir : c.getCleanTemporaryDirectoriesList()) cleaners.add(Cleaner.directory(Path.of(dir)));
        if (c.getRunCommandCleanerCount() > 0) cleaners.add(Cleaner.command(c.getRunCommandCleanerList()));
        if (!cleaners.isEmpty()) r = new CleanRunner(r, cleaners);
        return new MetricsRunner(r, metrics);
    }

    /** Opened on each use, as bb_runner does: it need not exist yet, and may be mounted over later. */
    static BuildDirectory buildDirectory(RunnerConfig config) {
        return new BuildDirectory(config.proto().getBuildDirectoryPath());
    }
}
