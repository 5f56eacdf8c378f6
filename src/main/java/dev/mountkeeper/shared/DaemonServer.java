package dev.mountkeeper.shared;

import dev.mountkeeper.linux.UnixSockets;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The API served over HTTP/1.1 on a UNIX socket (Netty's HTTP codec, epoll transport). Each
 * request's peer comes from the connection's SO_PEERCRED; requests on one connection are answered
 * in order, each off the event loop because mounting blocks.
 */
public final class DaemonServer implements AutoCloseable {
    private static final int MAX_BODY = 1 << 20;
    private static final AttributeKey<Peer> PEER = AttributeKey.valueOf("peer");
    private static final AttributeKey<CompletableFuture<?>> LAST = AttributeKey.valueOf("last");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final Api api;
    private final Channel channel;
    private final Path socket;

    private DaemonServer(Api api, Path socket, Integer inheritedFd) throws IOException {
        this.api = api;
        this.socket = socket;
        ServerBootstrap b = new ServerBootstrap().group(group).childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
            @Override
            protected void initChannel(EpollDomainSocketChannel ch) {
                ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY), new Handler());
            }
        });
        try {
            if (inheritedFd != null) {
                // Already bound and listening: active from the start, so it accepts as soon as it is registered.
                channel = b.channelFactory(() -> new EpollServerDomainSocketChannel(inheritedFd, true)).register().sync().channel();
            } else {
                UnixSockets.removeStale(socket);
                channel = b.channel(EpollServerDomainSocketChannel.class).bind(new DomainSocketAddress(socket.toString()))
                        .sync().channel();
                // Anyone may connect: the policy decides what each peer may do.
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IOException("Interrupted while binding " + socket);
        } catch (IOException | RuntimeException e) {
            close();
            throw new IOException("Failed to listen on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Listens on {@code socket}, replacing a stale socket file but never a live daemon's. */
    public static DaemonServer listen(Api api, Path socket) throws IOException {
        return new DaemonServer(api, socket, null);
    }

    /** Serves on a socket systemd passed (socket activation). */
    public static DaemonServer inherit(Api api, int fd) throws IOException {
        return new DaemonServer(api, null, fd);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            EpollDomainSocketChannel ch = (EpollDomainSocketChannel) ctx.channel();
            PeerCredentials c = ch.peerCredentials();
            ctx.channel().attr(PEER).set(Peer.of(c.pid(), c.uid(), c.gids().length > 0 ? c.gids()[0] : -1,
                    UnixSockets.peerGroups(ch.fd().intValue())));
            ctx.channel().attr(LAST).set(CompletableFuture.completedFuture(null));
            super.channelActive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            String method = req.method().name(), uri = req.uri();
            String body = req.content().toString(StandardCharsets.UTF_8);
            boolean bad = req.decoderResult().isFailure();
            Peer peer = ctx.channel().attr(PEER).get();
            CompletableFuture<?> last = ctx.channel().attr(LAST).get();
            ctx.channel().attr(LAST).set(last.thenRunAsync(() -> {
                Api.Response r;
                if (bad) {
                    r = new Api.Response(400, Api.print(dev.mountkeeper.shared.proto.Error.newBuilder()
                            .setError("Malformed HTTP request: " + req.decoderResult().cause())));
                } else {
                    QueryStringDecoder q = new QueryStringDecoder(uri);
                    r = api.handle(peer, method, q.path(), q.parameters(), body);
                }
                FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(r.status()), Unpooled.copiedBuffer(r.json(), StandardCharsets.UTF_8));
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
                if (keepAlive) {
                    resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                    ctx.writeAndFlush(resp);
                } else {
                    ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
                }
            }, workers));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdown();
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // a socket file left behind is replaced on the next start
            }
        }
    }
}
