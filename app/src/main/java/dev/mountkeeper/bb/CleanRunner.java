package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import io.grpc.StatusException;
import java.util.List;

/**
 * Runs the cleaners when the runner goes from idle to busy and from busy to idle, as Buildbarn's
 * clean runner does: never while another action could be using what they clean.
 */
final class CleanRunner implements Runner {
    private final Runner base;
    private final List<Cleaner> cleaners;
    private final Object lock = new Object();
    private int users;

    CleanRunner(Runner base, List<Cleaner> cleaners) {
        this.base = base;
        this.cleaners = List.copyOf(cleaners);
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        acquire();
        RunResponse r;
        try {
            r = base.run(request);
        } catch (StatusException e) {
            try {
                release();
            } catch (StatusException ignored) {
                e.addSuppressed(ignored);
            }
            throw e;
        }
        release();
        return r;
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        acquire();
        try {
            base.checkReadiness(request);
        } finally {
            release();
        }
    }

    private void acquire() throws StatusException {
        synchronized (lock) {
            if (users == 0) cleanAll();
            users++;
        }
    }

    private void release() throws StatusException {
        synchronized (lock) {
            if (--users == 0) cleanAll();
        }
    }

    private void cleanAll() throws StatusException {
        for (Cleaner c : cleaners) c.clean();
    }
}
