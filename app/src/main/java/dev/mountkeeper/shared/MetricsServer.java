package dev.mountkeeper.shared;

import dev.mountkeeper.linux.UnixSockets;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * GET /metrics on {@code unix:PATH} or {@code HOST:PORT}, written by Prometheus' own exposition
 * formats (the one the scraper's Accept header asks for). Only root may connect to the UNIX socket
 * (mode 0600); a TCP address is for loopback or a network the host trusts.
 */
public final class MetricsServer implements AutoCloseable {
    private static final ExpositionFormats FORMATS = ExpositionFormats.init();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final Channel channel;
    private final Path socket;
    private final String endpoint;

    private MetricsServer(String address, PrometheusRegistry registry) throws IOException {
        socket = address.startsWith("unix:") ? Path.of(address.substring(5)) : null;
        SocketAddress bindTo = socket != null ? new DomainSocketAddress(socket.toString()) : inet(address);
        ServerBootstrap b = new ServerBootstrap().group(group)
                .channel(socket != null ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Scrape(registry));
                    }
                });
        try {
            if (socket != null) UnixSockets.removeStale(socket);
            channel = b.bind(bindTo).sync().channel();
            if (socket != null) Files.setPosixFilePermissions(socket, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IOException("Interrupted while binding the metrics address " + address);
        } catch (IOException | RuntimeException e) {
            close();
            throw new IOException("Failed to listen for metrics on " + address + ": " + e.getMessage(), e);
        }
        endpoint = socket != null ? "unix:" + socket + " /metrics"
                : "http://" + hostPort((InetSocketAddress) channel.localAddress()) + "/metrics";
    }

    /** Serves {@code registry} on {@code address}: "unix:PATH" or "HOST:PORT" (port 0: any free one). */
    public static MetricsServer start(String address, PrometheusRegistry registry) throws IOException {
        return new MetricsServer(address, registry);
    }

    /** Where it serves, with the port actually bound: "http://127.0.0.1:41234/metrics" or "unix:PATH /metrics". */
    public String endpoint() {
        return endpoint;
    }

    /** "host:port" or "[v6]:port"; a bad one is one line naming it. */
    public static InetSocketAddress inet(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("--metrics-listen \"" + address + "\" is neither unix:PATH nor HOST:PORT");
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
            return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--metrics-listen \"" + address + "\" has no valid port");
        }
    }

    private static String hostPort(InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    private static final class Scrape extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final PrometheusRegistry registry;

        Scrape(PrometheusRegistry registry) {
            this.registry = registry;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws IOException {
            FullHttpResponse resp;
            if (!new QueryStringDecoder(req.uri()).path().equals("/metrics")) {
                resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                        Unpooled.copiedBuffer("Only /metrics is served here\n", StandardCharsets.UTF_8));
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            } else {
                ExpositionFormatWriter w = FORMATS.findWriter(req.headers().get(HttpHeaderNames.ACCEPT));
                resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, ctx.alloc().buffer());
                try (ByteBufOutputStream out = new ByteBufOutputStream(resp.content())) {
                    w.write(out, registry.scrape());
                }
                resp.headers().set(HttpHeaderNames.CONTENT_TYPE, w.getContentType());
            }
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
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
        if (socket != null && channel != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // a socket file left behind is replaced on the next start
            }
        }
    }
}
