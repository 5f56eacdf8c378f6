package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.Root;
import java.util.List;
import java.util.Map;

/**
 * Finds argv[0] the way a shell does, in the command's own PATH, inside the sandbox's root
 * (symlinks resolve as they will after the pivot). 127 when nothing is found, 126 when what is
 * found cannot be executed.
 */
final class CommandLookup {
    private CommandLookup() {}

    /** What a shell searches when PATH is unset. */
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    /**
     * The path to execute, checked inside {@code root} but returned as a shell would pass it to
     * execve: argv[0] itself when it has a slash, else the PATH entry as written joined to it. A
     * relative result resolves against the working directory, which the spawn enters first.
     */
    static String resolve(Root root, String name, Sandbox.Lookup lookup, Map<String, String> env, String cwd)
            throws SandboxException {
        if (name.indexOf('/') >= 0) {
            Statx st = stat(root, inCwd(cwd, name));
            if (st == null) throw SandboxException.commandNotFound(Quote.string(name) + ": no such file inside the sandbox");
            checkRunnable(name, st);
            return name;
        }
        String searchPath = env.get("PATH");
        List<String> dirs = switch (lookup) {
            case SHELL -> List.of((searchPath == null ? DEFAULT_PATH : searchPath).split(":", -1));
            // As Go's filepath.SplitList, which bb_runner uses: an unset or empty PATH has no entries.
            case PATH_ONLY -> searchPath == null || searchPath.isEmpty() ? List.of() : List.of(searchPath.split(":", -1));
        };
        Statx firstFound = null;
        String firstPath = null;
        for (String dir : dirs) {
            String given = dir.isEmpty() ? name : (dir.endsWith("/") ? dir : dir + "/") + name;
            Statx st = stat(root, inCwd(cwd, given));
            if (st == null || st.isDirectory()) continue;
            if (st.isRegularFile() && (st.mode() & 0111) != 0) return given;
            if (firstFound == null) {
                firstFound = st;
                firstPath = given;
            }
        }
        if (firstFound != null) {
            checkRunnable(firstPath, firstFound);
            return firstPath;
        }
        throw SandboxException.commandNotFound(Quote.string(name) + ": command not found in PATH "
                + (searchPath == null ? "(unset)" : Quote.string(searchPath)) + " inside the sandbox");
    }

    /** {@code path} as is when absolute, else relative to the command's working directory. */
    private static String inCwd(String cwd, String path) {
        return path.startsWith("/") ? path : (cwd.equals("/") ? "" : cwd) + "/" + path;
    }

    private static void checkRunnable(String shown, Statx st) throws SandboxException {
        if (st.isDirectory()) throw SandboxException.notExecutable(Quote.string(shown) + ": is a directory", null);
        if (!st.isRegularFile() || (st.mode() & 0111) == 0) {
            throw SandboxException.notExecutable(Quote.string(shown) + ": permission denied (not an executable file)", null);
        }
    }

    static Statx stat(Root root, String path) {
        try (Fd fd = root.openInRoot(path, 0)) {
            return fstatx(fd, STATX_TYPE | STATX_MODE);
        } catch (ErrnoException e) {
            return null;
        }
    }
}
