package dev.mountkeeper.bb;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Quote;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.ArrayList;
import java.util.List;

/**
 * The build directory: every path of a request is resolved from an fd of it with RESOLVE_BENEATH,
 * so no "..", absolute path or symlink can lead out of it. The fd is opened afresh for each use,
 * as bb_runner's lazy directory does: a worker may mount over the build directory after the runner
 * started (a FUSE build directory, mounted again on every restart of the worker).
 */
final class BuildDirectory implements AutoCloseable {
    static final long BENEATH = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

    final String path;

    BuildDirectory(String path) {
        this.path = path;
    }

    private Fd open() throws StatusException {
        try {
            return openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY, 0, 0);
        } catch (ErrnoException e) {
            throw Status.UNAVAILABLE.withDescription("Failed to open the build directory " + Quote.string(path) + ": "
                    + e.getMessage()).asException();
        }
    }

    /**
     * A request's relative path, normalised ("" for the directory itself). Refuses, as
     * INVALID_ARGUMENT, what could only name something outside: absolute paths and "..".
     */
    static String relative(String what, String path) throws StatusException {
        if (path.indexOf('\0') >= 0) throw invalid(what + " " + Quote.string(path) + " contains a NUL byte");
        if (path.startsWith("/")) throw invalid(what + " " + Quote.string(path) + " is absolute; it must be relative");
        List<String> names = new ArrayList<>();
        for (String n : path.split("/")) {
            if (n.isEmpty() || n.equals(".")) continue;
            if (n.equals("..")) {
                throw invalid(what + " " + Quote.string(path) + " resolves to a location outside the build directory");
            }
            names.add(n);
        }
        return String.join("/", names);
    }

    /** Opens a directory of a request (O_PATH), checking it exists below the build directory. */
    Fd directory(String what, String relative) throws StatusException {
        return open(what, relative, O_PATH | O_DIRECTORY, 0);
    }

    /**
     * Creates an output file as Buildbarn does: O_EXCL, mode 0666 (less the umask). A file that
     * exists already, or a directory on the way that does not, is UNKNOWN, as in bb_runner: its
     * openLog passes the bare errno up, and a bare error is UNKNOWN to gRPC (bb_worker counts it as
     * an infrastructure failure and retries elsewhere).
     */
    Fd createOutput(String what, String relative) throws StatusException {
        if (relative.isEmpty()) throw invalid(what + " is empty");
        try (Fd dir = open()) {
            return openat2(dir.get(), relative, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0666, BENEATH);
        } catch (ErrnoException e) {
            if (e.is(Errno.EEXIST) || e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR)) {
                throw Status.UNKNOWN.withDescription("Failed to open " + what + " " + Quote.string(relative) + ": "
                        + e.getMessage()).asException();
            }
            throw failure(what, relative, e);
        }
    }

    /** True if the path exists (without following a final symlink), false if it does not. */
    boolean exists(String what, String relative) throws StatusException {
        try (Fd dir = open(); Fd f = openat2(dir.get(), relative.isEmpty() ? "." : relative, O_PATH | O_NOFOLLOW, 0, BENEATH)) {
            return true;
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR)) return false;
            if (e.is(Errno.EXDEV)) throw invalid(what + " " + Quote.string(relative)
                    + " resolves to a location outside the build directory");
            throw Status.INTERNAL.withDescription("Failed to check " + what + " " + Quote.string(relative) + ": "
                    + e.getMessage()).asException();
        }
    }

    private Fd open(String what, String relative, int flags, int mode) throws StatusException {
        try (Fd dir = open()) {
            return openat2(dir.get(), relative.isEmpty() ? "." : relative, flags, mode, BENEATH);
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT) || e.is(Errno.ENOTDIR)) {
                throw invalid("Failed to open " + what + " " + Quote.string(relative) + ": " + e.getMessage());
            }
            throw failure(what, relative, e);
        }
    }

    private static StatusException failure(String what, String relative, ErrnoException e) {
        String name = what + " " + Quote.string(relative);
        if (e.is(Errno.EXDEV) || e.is(Errno.ELOOP)) return invalid(name + " resolves to a location outside the build directory");
        return Status.INTERNAL.withDescription("Failed to open " + name + ": " + e.getMessage()).asException();
    }

    static StatusException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asException();
    }

    @Override
    public void close() {
        // nothing held between calls
    }
}
