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
                    if (System.nanoTime() > deadline) throw new IOException("Cannot reach the daemon at \"" + socket + "\": " + e.getMessage(), e);
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
