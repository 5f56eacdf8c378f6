package dev.mountkeeper.cli;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.mount.InvalidSpecException;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.sandbox.SandboxException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mountkeeper} command. It has no action of its own: a subcommand is required. */
@Command(name = "mountkeeper", mixinStandardHelpOptions = true,
        synopsisSubcommandLabel = "COMMAND",
        description = "Safe, leak-free mounts for build sandboxes.",
        subcommands = {RunCommand.class, BbRunnerCommand.class, MountCommand.class, UmountCommand.class,
                MountsCommand.class, DaemonCommand.class, SharedCommands.Acquire.class, SharedCommands.Release.class,
                SharedCommands.Status.class, SharedCommands.Sweep.class})
public final class Main {
    public static void main(String[] args) {
        Rootless.reexecIfNeeded(args);
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler(Main::badUsage);
        VersionProvider.install(cl);
        HelpFormat.install(cl);
        // run: everything from the command name on belongs to the command; options may repeat, in order.
        CommandLine run = cl.getSubcommands().get("run").setStopAtPositional(true).setOverwrittenOptionsAllowed(true);
        if (Bwrap.active()) {
            run.getCommandSpec().usageMessage().synopsisHeading("")
                    .customSynopsis("usage: " + Bwrap.argv0() + " [OPTIONS...] [--] COMMAND [ARGS...]%n");
        }
        return cl;
    }

    /**
     * A bad option or value: one line naming it and the reason, then where help is, exit 2; never
     * picocli's reflection message or the whole usage. A setter's own exception (a spec that does
     * not parse, a size that is not positive) is the reason.
     */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        Throwable cause = e.getCause();
        String reason = cause instanceof IllegalArgumentException && cause.getMessage() != null ? cause.getMessage() : e.getMessage();
        if (e.getArgSpec() instanceof CommandLine.Model.OptionSpec o && !reason.startsWith(o.longestName())) {
            reason = o.longestName() + ": " + reason;
        }
        PrintWriter err = cl.getErr();
        if (Bwrap.active()) {
            err.println("bwrap: " + reason);
            err.flush();
            return 1;
        }
        err.println(cl.getCommandSpec().qualifiedName() + ": " + reason);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return CommandLine.ExitCode.USAGE;
    }

    /** Bad input exits 2, every other failure 1; either way the one chained message, no stack trace. */
    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (Bwrap.active()) {
            err.println("bwrap: " + Bwrap.message(e.getMessage()));
            err.flush();
            return 1;
        }
        err.println("mountkeeper " + cl.getCommandName() + ": " + e.getMessage());
        String hint = hint(e, cl.getCommandName());
        if (hint != null) err.println("mountkeeper " + cl.getCommandName() + ": hint: " + hint);
        err.flush();
        if (e instanceof SandboxException s) return s.status();
        boolean badInput = e instanceof InvalidSpecException || e instanceof IllegalArgumentException
                || (e instanceof MountException m && m.reason() == MountException.Reason.INVALID_INPUT);
        return badInput ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
    }

    /** What to do about a failure the message alone does not explain to a newcomer, or null. */
    static String hint(Throwable e, String command) {
        boolean eperm = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ErrnoException errno && errno.is(Errno.EPERM)) eperm = true;
        }
        if (!eperm || ProcessSyscalls.geteuid() == 0) return null;
        return switch (command) {
            case "mount", "umount" -> "mounting needs root (or CAP_SYS_ADMIN): run it with sudo; as any other user,"
                    + " 'mountkeeper run' mounts inside a rootless sandbox";
            case "bb-runner", "daemon" -> "this mounts for its callers, so it runs as root (or with CAP_SYS_ADMIN)";
            default -> null;
        };
    }
}
