package dev.mountkeeper.shared;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** One request to the daemon over its UNIX socket (Netty's HTTP client codec). */
public final class DaemonClient {
    private DaemonClient() {}

    public record Reply(int status, String body) {}

    /**
     * Sends one request; while the daemon is not there (restarting, say), retries connecting for
     * up to {@code connectWait}.
     */
    public static Reply call(Path socket, String method, String uri, String json, Duration connectWait) throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            long deadline = System.nanoTime() + connectWait.toNanos();
            while (true) {
                CompletableFuture<Reply> reply = new CompletableFuture<>();
                Channel ch;
                try {
                    ch = connect(group, socket, reply);
                } catch (IOException e) {
                    Unreachable why = Unreachable.of(socket, e);
                    // Only a daemon that is not there yet is waited for: a socket we may not use stays so.
                    if (!why.mayWait() || System.nanoTime() > deadline) {
                        throw new IOException("Cannot reach the daemon at \"" + socket + "\": " + why.reason(), e);
                    }
                    Thread.sleep(100);
                    continue;
                }
                byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
                FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri,
                        Unpooled.wrappedBuffer(body));
                req.headers().set(HttpHeaderNames.HOST, "mountkeeper")
                        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ch.writeAndFlush(req);
                try {
                    return reply.get(2, TimeUnit.MINUTES);
                } catch (ExecutionException e) {
                    throw new IOException("The daemon at \"" + socket + "\" did not answer: " + e.getCause().getMessage(), e.getCause());
                } catch (TimeoutException e) {
                    throw new IOException("The daemon at \"" + socket + "\" did not answer in time");
                } finally {
                    ch.close();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted", e);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Why connecting failed, in words a user can act on (which socket, what to check); whether waiting may help. */
    record Unreachable(String reason, boolean mayWait) {
        private static final java.util.regex.Pattern NETTY_ERRNO = java.util.regex.Pattern.compile("error\\(-(\\d+)\\)");

        static Unreachable of(Path socket, IOException e) {
            int errno = 0;
            for (Throwable t = e; t != null && errno == 0; t = t.getCause()) {
                if (t instanceof io.netty.channel.unix.Errors.NativeIoException n) errno = -n.expectedErr();
                // Netty's connect failure carries the errno only in its text: "connect(..) failed with error(-111)".
                var m = t.getMessage() == null ? null : NETTY_ERRNO.matcher(t.getMessage());
                if (errno == 0 && m != null && m.find()) errno = Integer.parseInt(m.group(1));
            }
            if (errno == 0 && !java.nio.file.Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) errno = 2;
            return switch (errno) {
                case 2 -> new Unreachable("no such socket (ENOENT); is the daemon running? (systemctl status mountkeeper.socket"
                        + " mountkeeper.service; --socket or MOUNTKEEPER_SOCKET names another socket, --wait waits for it)", true);
                case 111 -> new Unreachable("nothing listens on it (ECONNREFUSED); the daemon stopped or is restarting"
                        + " (systemctl status mountkeeper.socket mountkeeper.service; --wait waits for it)", true);
                case 13 -> new Unreachable("permission denied (EACCES) for uid " + uid() + "; the socket unit's SocketMode and"
                        + " SocketGroup decide who may connect", false);
                default -> new Unreachable(String.valueOf(e.getMessage()), true);
            };
        }

        private static String uid() {
            try {
                return String.valueOf(java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
            } catch (IOException | RuntimeException e) {
                return "?";
            }
        }
    }

    private static Channel connect(EventLoopGroup group, Path socket, CompletableFuture<Reply> reply)
            throws IOException, InterruptedException {
        Bootstrap b = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(16 << 20),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        reply.complete(new Reply(r.status().code(), r.content().toString(StandardCharsets.UTF_8)));
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        reply.completeExceptionally(new IOException("connection closed"));
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        reply.completeExceptionally(cause);
                                    }
                                });
                    }
                });
        var f = b.connect(new DomainSocketAddress(socket.toString())).await();
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            throw c instanceof IOException io ? io : new IOException(String.valueOf(c.getMessage()), c);
        }
        return f.channel();
    }
}
