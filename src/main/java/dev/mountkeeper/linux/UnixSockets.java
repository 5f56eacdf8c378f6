package dev.mountkeeper.linux;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** The socket file of a UNIX-socket server. */
public final class UnixSockets {
    private UnixSockets() {}

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
