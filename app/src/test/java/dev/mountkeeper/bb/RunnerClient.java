package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.RunnerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A client that talks to the runner the way bb_worker does: gRPC over its UNIX socket. */
final class RunnerClient implements AutoCloseable {
    private final EventLoopGroup group = new EpollEventLoopGroup(1);
    final ManagedChannel channel;

    RunnerClient(Path socket) {
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    }

    RunnerGrpc.RunnerBlockingStub blocking() {
        return RunnerGrpc.newBlockingStub(channel);
    }

    RunnerGrpc.RunnerFutureStub future() {
        return RunnerGrpc.newFutureStub(channel);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }
}
