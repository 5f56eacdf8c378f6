package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.Root;
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

    static String resolve(Root root, String name, Map<String, String> env, String cwd) throws SandboxException {
        if (name.indexOf('/') >= 0) {
            String path = inCwd(cwd, name);
            Statx st = stat(root, path);
            if (st == null) throw SandboxException.commandNotFound(Quote.string(name) + ": no such file inside the sandbox");
            checkRunnable(name, st);
            return path;
        }
        String searchPath = env.getOrDefault("PATH", DEFAULT_PATH);
        Statx firstFound = null;
        String firstPath = null;
        for (String dir : searchPath.split(":", -1)) {
            String d = dir.isEmpty() ? cwd : inCwd(cwd, dir);
            String candidate = (d.endsWith("/") ? d : d + "/") + name;
            Statx st = stat(root, candidate);
            if (st == null || st.isDirectory()) continue;
            if (st.isRegularFile() && (st.mode() & 0111) != 0) return candidate;
            if (firstFound == null) {
                firstFound = st;
                firstPath = candidate;
            }
        }
        if (firstFound != null) {
            checkRunnable(firstPath, firstFound);
            return firstPath;
        }
        throw SandboxException.commandNotFound(Quote.string(name) + ": command not found in PATH "
                + Quote.string(searchPath) + " inside the sandbox");
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
