package dev.mountkeeper.bb;

import com.google.protobuf.Empty;
import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.bb.proto.runner.RunnerGrpc;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;

/** The gRPC face of a {@link Runner}: buildbarn.runner.Runner. */
final class RunnerService extends RunnerGrpc.RunnerImplBase {
    private final Runner runner;

    RunnerService(Runner runner) {
        this.runner = runner;
    }

    @Override
    public void run(RunRequest request, StreamObserver<RunResponse> response) {
        answer(response, () -> {
            try {
                return runner.run(request);
            } catch (StatusException e) {
                // One line per failed action, as an operator reads them; readiness failures repeat
                // while idle and are not logged.
                System.err.println("mountkeeper bb-runner: Run " + dev.mountkeeper.linux.Quote.string(
                        String.join(" ", request.getArgumentsList())) + " in " + dev.mountkeeper.linux.Quote.string(
                        request.getInputRootDirectory()) + " failed: " + e.getStatus().getCode() + ": "
                        + e.getStatus().getDescription());
                throw e;
            }
        });
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request, StreamObserver<Empty> response) {
        answer(response, () -> {
            runner.checkReadiness(request);
            return Empty.getDefaultInstance();
        });
    }

    private interface Call<T> {
        T call() throws StatusException;
    }

    /** One answer per call: the result, its status, or INTERNAL for a bug. */
    private static <T> void answer(StreamObserver<T> response, Call<T> call) {
        try {
            response.onNext(call.call());
            response.onCompleted();
        } catch (StatusException e) {
            response.onError(e);
        } catch (RuntimeException e) {
            response.onError(Status.INTERNAL.withDescription(String.valueOf(e)).withCause(e).asException());
        }
    }
}
