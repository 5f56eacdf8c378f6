package dev.mountkeeper.shared;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.Mounter;
import dev.mountkeeper.mount.Root;
import java.io.IOException;

/**
 * What a client may reach, asked of the kernel with the client's own credentials ({@link AsUser})
 * and of the very descriptor that is then used. A target must be reachable by the client and be
 * its own or writable for it, but not another user's sticky directory (there, writing means
 * adding entries, not replacing everyone's). A bind source must be reachable: what lies in it
 * keeps its own permissions in the copy. A provider's source must be readable too, since the
 * provider reads it with root's rights and shows what it read with permissions of its own.
 */
final class Rights {
    private Rights() {}

    private static final int S_ISVTX = 01000;

    /** A refusal found on the descriptors themselves: the client asked for what it may not have (403). */
    static final class Refused extends MountException {
        Refused(String message) {
            super(Reason.INVALID_INPUT, message);
        }
    }

    /** Why {@code peer} may not mount on {@code top}, or null. Runs on the client's thread (AT_EACCESS). */
    static String refusal(Peer peer, Fd top) throws ErrnoException {
        if (peer.isRoot()) return null;
        Statx st = fstatx(top, STATX_BASIC_STATS);
        if (st.uid() == peer.uid()) return null;
        if (st.isDirectory() && (st.mode() & S_ISVTX) != 0) return "is a sticky directory of uid " + st.uid();
        if (faccessat2(top.get(), "", W_OK, AT_EACCESS | AT_EMPTY_PATH)) return null;
        return "belongs to uid " + st.uid() + " and is not writable for uid " + peer.uid();
    }

    /**
     * The mount core's last check of the destination it resolved, just before it mounts there: the
     * client resolves the same path itself and must reach the same file, and may mount on it.
     */
    static Mounter.Destinations destinations(Peer peer) {
        return (root, path, target) -> {
            if (peer.isRoot()) return;
            String why = AsUser.call(peer, () -> {
                Fd again;
                try (Root mine = Root.open(root.path())) {
                    again = mine.openInRoot(path, O_NOFOLLOW);
                } catch (IOException e) {
                    return "is out of reach of uid " + peer.uid();
                }
                try (again) {
                    if (!fstatx(again, STATX_TYPE | STATX_INO).sameFile(fstatx(target, STATX_TYPE | STATX_INO))) {
                        return "changed while it was being checked";
                    }
                }
                return refusal(peer, target);
            });
            if (why != null) throw new Refused("Target " + Quote.string(root.hostPath(path)) + " " + why);
        };
    }

    /**
     * Opens {@code source} as the client would (O_PATH, magic links refused), requires it to be readable as well when
     * {@code read}, and checks that what was opened lies within the grant's sources.
     */
    static Fd openSource(Peer peer, String source, Policy.Grant grant, boolean read) throws IOException {
        Fd fd;
        try {
            fd = AsUser.call(peer, () -> {
                // No magic links: /proc/self/fd/N here would be one of the daemon's descriptors, not the client's.
                Fd f = openat2(AT_FDCWD, source, O_PATH, 0, RESOLVE_NO_MAGICLINKS);
                try {
                    int mode = fstatx(f, STATX_TYPE).isDirectory() ? R_OK | X_OK : R_OK;
                    if (read && !peer.isRoot() && !faccessat2(f.get(), "", mode, AT_EACCESS | AT_EMPTY_PATH)) {
                        throw new Refused("Source " + Quote.string(source) + " is not readable for uid " + peer.uid());
                    }
                    return f;
                } catch (IOException | RuntimeException e) {
                    f.close();
                    throw e;
                }
            });
        } catch (ErrnoException e) {
            if (e.is(Errno.EACCES)) throw new Refused("Source " + Quote.string(source) + " is out of reach of uid " + peer.uid());
            String why = e.is(Errno.ENOENT) ? "does not exist" : e.is(Errno.ENOTDIR) ? "goes through a file that is not a directory"
                    : e.is(Errno.ELOOP) ? "goes through a magic link or a symbolic link loop" : null;
            if (why == null) throw new MountException(MountException.Reason.SYSTEM, "Failed to open source " + Quote.string(source), e);
            throw new MountException(MountException.Reason.INVALID_INPUT, "Source " + Quote.string(source) + " " + why);
        }
        String real = fdPath(fd);
        if (!grant.sourceAllowed(real)) {
            fd.close();
            throw new Refused("The policy does not allow the source " + Quote.string(real)
                    + (real.equals(source) ? "" : " (from " + Quote.string(source) + ")"));
        }
        return fd;
    }
}
