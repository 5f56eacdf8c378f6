package dev.mountkeeper.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * AF_UNIX datagram sockets, see unix(7): what sd_notify(3) speaks, which Java's UNIX-domain
 * channels (stream only) cannot. An address is a path, or an abstract name when it starts with '@'.
 */
public final class DatagramSockets {
    private DatagramSockets() {}

    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH = 108;
    private static final MethodHandle SOCKET = Native.errnoCall("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = Native.errnoCall("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = Native.errnoCall("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECV = Native.errnoCall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    /** {@code int socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)}, see socket(2). */
    public static Fd socket() throws ErrnoException {
        return Calls.call((a, cs) -> Fd.adopt((int) Calls.check(
                (int) SOCKET.invokeExact(cs, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), cs,
                "socket", () -> "AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0")));
    }

    /** {@code int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen)}, see bind(2). */
    public static void bind(Fd fd, String address) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment sa = sockaddr(a, address);
            return Calls.check((int) BIND.invokeExact(cs, fd.get(), sa, (int) sa.byteSize()), cs,
                    "bind", () -> fd + ", {AF_UNIX, " + Quote.string(address) + "}, " + sa.byteSize());
        });
    }

    /**
     * {@code ssize_t sendto(int sockfd, const void *buf, size_t len, MSG_NOSIGNAL, const struct sockaddr
     * *dest_addr, socklen_t addrlen)}, see send(2): one datagram to {@code address}.
     */
    public static void sendto(Fd fd, byte[] data, String address) throws ErrnoException {
        Calls.call((a, cs) -> {
            MemorySegment buf = a.allocateFrom(JAVA_BYTE, data), sa = sockaddr(a, address);
            long r;
            do {
                r = (long) SENDTO.invokeExact(cs, fd.get(), buf, (long) data.length, MSG_NOSIGNAL, sa, (int) sa.byteSize());
            } while (r < 0 && Native.errno(cs) == Errno.EINTR.number());
            return Calls.check(r, cs, "sendto", () -> fd + ", buf, " + data.length + ", MSG_NOSIGNAL, {AF_UNIX, "
                    + Quote.string(address) + "}, " + sa.byteSize());
        });
    }

    /**
     * {@code ssize_t recv(int sockfd, void *buf, size_t len, 0)}, see recv(2), after poll(2): the next
     * datagram (at most 64 KiB), or null when none came within {@code timeout}.
     */
    public static byte[] receive(Fd fd, Duration timeout) throws ErrnoException {
        if (ProcessSyscalls.pollReadable(timeout, fd) < 0) return null;
        return Calls.call((a, cs) -> {
            MemorySegment buf = a.allocate(65536);
            long n = Calls.check((long) RECV.invokeExact(cs, fd.get(), buf, buf.byteSize(), 0), cs,
                    "recv", () -> fd + ", buf, " + buf.byteSize() + ", 0");
            return buf.asSlice(0, n).toArray(JAVA_BYTE);
        });
    }

    /** {@code struct sockaddr_un} for a path, or an abstract name ('@' becomes the leading NUL, no NUL after). */
    private static MemorySegment sockaddr(Arena a, String address) {
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean isAbstract = address.startsWith("@");
        if (isAbstract) name[0] = 0;
        else if (address.indexOf('\0') >= 0) throw new IllegalArgumentException("socket path contains a NUL byte: " + Quote.string(address));
        int length = isAbstract ? name.length : name.length + 1;
        if (name.length <= (isAbstract ? 1 : 0) || length > SUN_PATH) {
            throw new IllegalArgumentException("not a usable AF_UNIX address (1 to " + (SUN_PATH - 1) + " bytes): " + Quote.string(address));
        }
        MemorySegment sa = a.allocate(2 + length, 2);
        sa.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(Arrays.copyOf(name, length), 0, sa, JAVA_BYTE, 2, length);
        return sa;
    }
}
