package dev.mountkeeper.provider;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.MountProvider;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.SpecPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code overlay:LOWER[+LOWER...]:DEST[:size=N]}: a writable view of read-only directories. The
 * upper and work directories live on a tmpfs of their own (size N, default 1g) that nobody else
 * sees, so writes land there, never in a lower, and vanish with the mount. Each lower is opened
 * once and handed to overlayfs by its descriptor.
 */
final class OverlayProvider implements MountProvider {
    @Override
    public String name() {
        return "overlay";
    }

    @Override
    public Kind mount(Request r) throws IOException {
        String size = "1g";
        for (String o : r.options()) {
            if (o.startsWith("size=")) size = Long.toString(MountSpecs.parseSize(o.substring(5)));
            else throw invalid("unknown option " + Quote.string(o) + " (known: size=N)");
        }
        List<Fd> lowers = lowers(r.source());
        String stage = r.staging(), scratch = stage + ".upper";
        try {
            Files.createDirectory(Path.of(stage));
            Files.createDirectory(Path.of(scratch));
            MountSyscalls.mount("overlay-upper", scratch, "tmpfs", MountSyscalls.MS_NOSUID | MountSyscalls.MS_NODEV, "size=" + size);
            try {
                MountSyscalls.mount(null, scratch, null, MountSyscalls.MS_PRIVATE, null);
                Files.createDirectory(Path.of(scratch, "upper"));
                Files.createDirectory(Path.of(scratch, "work"));
                // Each lower by the descriptor opened once: what overlayfs stacks is what was opened.
                String lowerdir = String.join(":", lowers.stream().map(l -> "/proc/thread-self/fd/" + l.get()).toList());
                MountSyscalls.mount("overlay", stage, "overlay", MountSyscalls.MS_NOSUID | MountSyscalls.MS_NODEV,
                        "lowerdir=" + lowerdir + ",upperdir=" + scratch + "/upper,workdir=" + scratch + "/work");
            } finally {
                // The overlay keeps its own reference to the upper layer: the scratch mount is not needed any more.
                MountSyscalls.umount2(scratch, MountSyscalls.MNT_DETACH);
                Files.delete(Path.of(scratch));
            }
            return Kind.DIRECTORY;
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to mount an overlay of " + r.source().replace("+", ", "), e);
        } finally {
            lowers.forEach(Fd::close);
        }
    }

    /** Opens each lower directory once (a daemon passes /proc/thread-self/fd/N of its own descriptors: followed). */
    private static List<Fd> lowers(String source) throws MountException {
        if (source.isEmpty()) throw invalid("needs LOWER[+LOWER...], the read-only directories");
        List<Fd> out = new ArrayList<>();
        try {
            for (String l : source.split("\\+", -1)) {
                try {
                    out.add(FileSyscalls.openat2(FileSyscalls.AT_FDCWD, SpecPaths.absolute("lower directory", l),
                            FileSyscalls.O_PATH | FileSyscalls.O_DIRECTORY, 0, 0));
                } catch (IllegalArgumentException | ErrnoException e) {
                    throw invalid("lower " + Quote.string(l) + " is not an existing absolute directory");
                }
            }
            return out;
        } catch (MountException e) {
            out.forEach(Fd::close);
            throw e;
        }
    }

    private static MountException invalid(String why) {
        return new MountException(MountException.Reason.INVALID_INPUT, "overlay: " + why);
    }
}
