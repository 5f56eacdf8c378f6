package dev.mountkeeper.bb;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The grpc_server_* families Buildbarn's servers export (go-grpc-prometheus' names and labels),
 * which bb-deployments' recording rules read: started, handled by code, messages received and
 * sent, and the handling time histogram.
 */
final class GrpcMetrics implements ServerInterceptor {
    private final Counter started, handled, received, sent;
    private final Histogram seconds;

    GrpcMetrics(PrometheusRegistry registry) {
        started = Counter.builder().name("grpc_server_started").help("Total number of RPCs started on the server.")
                .labelNames("grpc_type", "grpc_service", "grpc_method").register(registry);
        handled = Counter.builder().name("grpc_server_handled")
                .help("Total number of RPCs completed on the server, regardless of success or failure.")
                .labelNames("grpc_type", "grpc_service", "grpc_method", "grpc_code").register(registry);
        received = Counter.builder().name("grpc_server_msg_received").help("Total number of RPC stream messages received on the server.")
                .labelNames("grpc_type", "grpc_service", "grpc_method").register(registry);
        sent = Counter.builder().name("grpc_server_msg_sent").help("Total number of gRPC stream messages sent by the server.")
                .labelNames("grpc_type", "grpc_service", "grpc_method").register(registry);
        seconds = Histogram.builder().name("grpc_server_handling_seconds")
                .help("Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.")
                .classicOnly().labelNames("grpc_type", "grpc_service", "grpc_method").register(registry);
    }

    private static String type(MethodDescriptor.MethodType t) {
        return switch (t) {
            case UNARY -> "unary";
            case CLIENT_STREAMING -> "client_stream";
            case SERVER_STREAMING -> "server_stream";
            case BIDI_STREAMING -> "bidi_stream";
            case UNKNOWN -> "unknown";
        };
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        MethodDescriptor<Q, R> m = call.getMethodDescriptor();
        String[] labels = {type(m.getType()), m.getServiceName(), m.getBareMethodName()};
        long t0 = System.nanoTime();
        started.labelValues(labels).inc();
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                sent.labelValues(labels).inc();
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                handled.labelValues(labels[0], labels[1], labels[2], status.getCode().name()).inc();
                seconds.labelValues(labels).observe((System.nanoTime() - t0) / 1e9);
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
            @Override
            public void onMessage(Q message) {
                received.labelValues(labels).inc();
                super.onMessage(message);
            }
        };
    }
}
