package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import io.grpc.StatusException;

/**
 * What bb_worker asks of a runner. One implementation runs actions; each decorator adds one
 * concern around another Runner; {@link Runners#fromConfig} composes them. Calls run on the gRPC
 * thread, whose {@link io.grpc.Context} carries the call's deadline and cancellation.
 */
public interface Runner {
    RunResponse run(RunRequest request) throws StatusException;

    /** Returns normally when the runner can take work; an error (bb_worker stops taking work) otherwise. */
    void checkReadiness(CheckReadinessRequest request) throws StatusException;
}
