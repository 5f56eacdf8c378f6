package dev.mountkeeper.shared;

import dev.mountkeeper.linux.DatagramSockets;
import dev.mountkeeper.linux.Fd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: one datagram such as "READY=1" to the AF_UNIX socket that
 * $NOTIFY_SOCKET names (abstract when it starts with '@'). Without $NOTIFY_SOCKET it does nothing.
 */
public final class SdNotify {
    private SdNotify() {}

    /** Tells the service manager {@code state}; false when no service manager asked to be told. */
    public static boolean notify(String state) throws IOException {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) return false;
        try (Fd fd = DatagramSockets.socket()) {
            DatagramSockets.sendto(fd, state.getBytes(StandardCharsets.UTF_8), socket);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("Failed to notify $NOTIFY_SOCKET " + socket + " of " + state.replace('\n', ' ') + ": "
                    + e.getMessage(), e);
        }
        return true;
    }
}
