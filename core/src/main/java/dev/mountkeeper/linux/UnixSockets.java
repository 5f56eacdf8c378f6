package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** The socket file of a UNIX-socket server, and what the kernel says about a connected peer. */
public final class UnixSockets {
    private UnixSockets() {}

    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERGROUPS = 59;
    private static final int ERANGE = 34;
    private static final MethodHandle GETSOCKOPT = Native.errnoCall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    /**
     * {@code int getsockopt(int sockfd, SOL_SOCKET, SO_PEERGROUPS, void *optval, socklen_t *optlen)},
     * see unix(7): the supplementary groups the peer had when it connected, as SO_PEERCRED gives
     * its uid and gid. (Reading them from /proc by the peer's pid later could read another process's.)
     */
    public static List<Integer> peerGroups(int fd) throws ErrnoException {
        int room = 64;
        while (true) {
            int size = room;
            List<Integer> got = Calls.call((a, cs) -> {
                MemorySegment buf = a.allocate(JAVA_INT, size), len = a.allocate(JAVA_INT);
                len.set(JAVA_INT, 0, size * 4);
                int r = (int) GETSOCKOPT.invokeExact(cs, fd, SOL_SOCKET, SO_PEERGROUPS, buf, len);
                if (r < 0 && Native.errno(cs) == ERANGE) return null;
                Calls.check(r, cs, "getsockopt", () -> fd + ", SOL_SOCKET, SO_PEERGROUPS, buf, " + size * 4);
                List<Integer> out = new ArrayList<>();
                for (int i = 0; i < len.get(JAVA_INT, 0) / 4; i++) out.add(buf.getAtIndex(JAVA_INT, i));
                return out;
            });
            if (got != null) return List.copyOf(got);
            if (room >= 65536) throw new IllegalStateException("SO_PEERGROUPS: more than 65536 groups");
            room *= 4;
        }
    }

    /** Removes a socket file nobody listens on; refuses a live one, or anything that is not a socket. */
    public static void removeStale(Path path) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!a.isOther()) throw new IOException("\"" + path + "\" exists and is not a socket");
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("another server is listening on \"" + path + "\"");
        } catch (java.net.ConnectException stale) {
            Files.delete(path);
        }
    }
}
