package dev.mountkeeper.shared;

import dev.mountkeeper.linux.UnixSockets;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The API served over HTTP/1.1 on a UNIX socket (Netty's HTTP codec, epoll transport). Each
 * request's peer comes from the connection's SO_PEERCRED; requests on one connection are answered
 * in order, each off the event loop because mounting blocks. Requests run on platform threads: one
 * blocked in a syscall on a user's filesystem that never answers would pin a virtual thread's
 * carrier, and with a few of those nobody would be answered. A uid has at most
 * {@link Limits#connections} connections open; a request must arrive whole within the request
 * timeout, and a connection with nothing in flight is closed after the idle timeout.
 */
public final class DaemonServer implements AutoCloseable {
    /** The largest request body: 64 specs of a few paths each fit many times over. */
    static final int MAX_BODY = 256 << 10;
    private static final int STOP_WAIT_SECONDS = 5;
    private static final AttributeKey<Peer> PEER = AttributeKey.valueOf("peer");
    private static final AttributeKey<CompletableFuture<?>> LAST = AttributeKey.valueOf("last");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ExecutorService workers = Executors.newThreadPerTaskExecutor(
            Thread.ofPlatform().name("request-", 0).daemon().factory());
    private final Map<Integer, AtomicInteger> connections = new ConcurrentHashMap<>();
    private final Api api;
    private final DaemonMetrics metrics;
    private final Channel channel;
    private final Path socket;

    private DaemonServer(Api api, Path socket, Integer inheritedFd, DaemonMetrics metrics) throws IOException {
        this.api = api;
        this.metrics = metrics;
        this.socket = socket;
        ServerBootstrap b = new ServerBootstrap().group(group).childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
            @Override
            protected void initChannel(EpollDomainSocketChannel ch) {
                Limits l = api.limits();
                ch.pipeline().addLast(new Deadline(l.requestTimeout()),
                        new IdleStateHandler(0, 0, l.idleTimeout().toMillis(), TimeUnit.MILLISECONDS),
                        new HttpServerCodec(), new Aggregator(), new Handler());
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
        return new DaemonServer(api, socket, null, new DaemonMetrics());
    }

    /** Listens on {@code socket} (or, when it is null, serves on the socket systemd passed as {@code fd}), counting requests. */
    public static DaemonServer start(Api api, Path socket, Integer fd, DaemonMetrics metrics) throws IOException {
        return new DaemonServer(api, fd != null ? null : socket, fd, metrics);
    }

    /** Closes a connection whose request has not arrived whole within the timeout from its first byte. */
    private static final class Deadline extends ChannelInboundHandlerAdapter {
        private final Duration timeout;
        private ScheduledFuture<?> pending;

        Deadline(Duration timeout) {
            this.timeout = timeout;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (pending == null) {
                pending = ctx.executor().schedule(() -> refuse(ctx, 408, "The request did not arrive whole within "
                        + timeout.toMillis() + " ms (policy limits.request_timeout_ms)"), timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            ctx.fireChannelRead(msg);
        }

        /** The request is in; the next one's clock starts with its first byte. */
        void received() {
            if (pending != null) pending.cancel(false);
            pending = null;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            received();
            ctx.fireChannelInactive();
        }
    }

    /** Netty's aggregator, answering a body over the limit with the API's kind of error. */
    private static final class Aggregator extends HttpObjectAggregator {
        Aggregator() {
            super(MAX_BODY);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            refuse(ctx, 413, "The request body is larger than " + MAX_BODY + " bytes");
        }
    }

    /** Answers with an error and closes the connection. */
    private static void refuse(ChannelHandlerContext ctx, int status, String message) {
        Api.Response r = Api.error(status, message);
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.copiedBuffer(r.json(), StandardCharsets.UTF_8));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.channel().writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private int inFlight; // on the event loop only
        private AtomicInteger counted;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            EpollDomainSocketChannel ch = (EpollDomainSocketChannel) ctx.channel();
            PeerCredentials c = ch.peerCredentials();
            Peer peer = Peer.of(c.pid(), c.uid(), c.gids().length > 0 ? c.gids()[0] : -1,
                    UnixSockets.peerGroups(ch.fd().intValue()));
            ctx.channel().attr(PEER).set(peer);
            ctx.channel().attr(LAST).set(CompletableFuture.completedFuture(null));
            AtomicInteger n = connections.computeIfAbsent(c.uid(), u -> new AtomicInteger());
            int limit = api.limits().connections(peer);
            if (n.incrementAndGet() > limit) {
                n.decrementAndGet();
                refuse(ctx, 429, peer + " has " + limit + " connections open already; the limit is " + limit
                        + " per user (policy limits.connections_per_user)");
                return;
            }
            counted = n;
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (counted != null) counted.decrementAndGet();
            counted = null;
            super.channelInactive(ctx);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            // Idle only counts with nothing in flight: a slow mount's caller is waiting, not idle.
            if (evt instanceof IdleStateEvent && inFlight == 0) ctx.close();
            else super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            ctx.pipeline().get(Deadline.class).received();
            inFlight++;
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
                metrics.request(bad ? null : new QueryStringDecoder(uri).path(), r.status());
                FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(r.status()), Unpooled.copiedBuffer(r.json(), StandardCharsets.UTF_8));
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
                ctx.executor().execute(() -> inFlight--);
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
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdown();
        try {
            // Requests under way get a moment to finish and write their change; one stuck on a user's
            // filesystem is left to the reconcile on the next start.
            if (!workers.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                System.getLogger("mountkeeper.daemon").log(System.Logger.Level.WARNING,
                        "Stopping with requests still under way after " + STOP_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // a socket file left behind is replaced on the next start
            }
        }
    }
}
