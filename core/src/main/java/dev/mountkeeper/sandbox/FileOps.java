package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.SpecPaths;
import java.util.ArrayList;
import java.util.List;

/** Files a sandbox writes into its root (bubblewrap's --file), never through a symlink. */
final class FileOps {
    private FileOps() {}

    static void write(Root root, Op.WriteFile f) throws MountException {
        List<Root.Created> created = new ArrayList<>();
        try (Fd dir = root.mkdirAll(SpecPaths.parent(f.dest()), 0755, created);
             Fd file = openat(dir.get(), SpecPaths.name(f.dest()), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, f.mode())) {
            ProcessSyscalls.writeAll(file, f.data());
        } catch (ErrnoException e) {
            throw new MountException(e.is(dev.mountkeeper.linux.Errno.EEXIST) ? MountException.Reason.INVALID_INPUT
                    : MountException.Reason.SYSTEM, "Failed to write the file " + Quote.string(f.dest()) + " in the sandbox", e);
        } finally {
            created.forEach(Root.Created::close);
        }
    }
}
