package dev.mountkeeper.cli;

import dev.mountkeeper.ProjectVersion;
import picocli.CommandLine;

/** {@code --version} of every command: the build's project version. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"mountkeeper " + ProjectVersion.get()};
    }

    /** Gives {@code cl} and all its subcommands this provider. */
    static void install(CommandLine cl) {
        cl.getCommandSpec().versionProvider(new VersionProvider());
        cl.getSubcommands().values().forEach(VersionProvider::install);
    }
}
