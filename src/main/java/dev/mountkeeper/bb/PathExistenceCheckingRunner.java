package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/** Not ready while one of readiness_checking_pathnames is missing (say, a network share went away). */
final class PathExistenceCheckingRunner implements Runner {
    private final Runner base;
    private final List<Path> paths;

    PathExistenceCheckingRunner(Runner base, List<Path> paths) {
        this.base = base;
        this.paths = List.copyOf(paths);
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        return base.run(request);
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        for (Path p : paths) {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw Status.UNAVAILABLE.withDescription("Path \"" + p + "\" does not exist").asException();
            }
        }
        base.checkReadiness(request);
    }
}
