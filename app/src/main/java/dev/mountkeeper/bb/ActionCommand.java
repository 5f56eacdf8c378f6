package dev.mountkeeper.bb;

import dev.mountkeeper.sandbox.Sandbox;
import java.util.ArrayList;
import java.util.List;

/**
 * How a request's arguments become the sandbox's command: bb_runner's two command creators, whose
 * answers an unmodified configuration must get. Either way argv[0] reaches the command as the
 * request gave it, and the file is executed by the path bb_runner would pass, never an absolute
 * host path (a "#!" script's $0 would otherwise leak the build directory into its outputs).
 */
sealed interface ActionCommand {
    void apply(Sandbox.Builder sandbox, List<String> arguments);

    static ActionCommand forChroot(boolean chroot) {
        return chroot ? new ThroughEnv() : new Plain();
    }

    /**
     * Without the chroot: argv[0] with a slash is executed as given, in the working directory;
     * without one it is searched in the request's PATH only (none when unset), the first
     * executable entry winning, and executed by that entry's own spelling, as bb_runner's
     * lookupExecutable. Not found is INVALID_ARGUMENT there and here.
     */
    record Plain() implements ActionCommand {
        @Override
        public void apply(Sandbox.Builder sandbox, List<String> arguments) {
            sandbox.command(arguments).lookup(Sandbox.Lookup.PATH_ONLY);
        }
    }

    /**
     * In the chroot: bb_runner runs {@code /usr/bin/env -- ARGS} inside the input root, so the
     * input root's env finds the command (in the request's PATH, or its own default) and a command
     * it cannot find or run is env's exit status (127, 126) with env's message on stderr: an action
     * result, not an error of the call. Running the input root's own env gives those answers as
     * that env words them. A missing /usr/bin/env is INVALID_ARGUMENT, as bb_runner's failed start.
     */
    record ThroughEnv() implements ActionCommand {
        static final String ENV = "/usr/bin/env";

        @Override
        public void apply(Sandbox.Builder sandbox, List<String> arguments) {
            List<String> argv = new ArrayList<>(arguments.size() + 2);
            argv.add(ENV);
            argv.add("--");
            argv.addAll(arguments);
            sandbox.command(argv).lookup(Sandbox.Lookup.PATH_ONLY);
        }
    }
}
