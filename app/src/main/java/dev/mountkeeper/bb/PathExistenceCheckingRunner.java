package dev.mountkeeper.bb;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Not ready while one of readiness_checking_pathnames is missing (say, a network share went away);
 * and, as bb_runner's, a failed action whose required paths vanished meanwhile is not reported as
 * the action's result, since the failure is likely the missing files' doing.
 */
final class PathExistenceCheckingRunner implements Runner {
    private final Runner base;
    private final List<Path> paths;

    PathExistenceCheckingRunner(Runner base, List<Path> paths) {
        this.base = base;
        this.paths = List.copyOf(paths);
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        RunResponse response = base.run(request);
        if (response.getExitCode() != 0) {
            StatusException missing = checkPaths();
            if (missing != null) {
                throw Status.UNAVAILABLE.withDescription("One or more required files disappeared during execution: "
                        + missing.getStatus().getDescription()).asException();
            }
        }
        return response;
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        StatusException missing = checkPaths();
        if (missing != null) throw missing;
        base.checkReadiness(request);
    }

    /** The first required path that cannot be stat'ed (symlinks followed, as bb_runner's os.Stat), or null. */
    private StatusException checkPaths() {
        for (Path p : paths) {
            try {
                Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
            } catch (java.io.IOException e) {
                String why = e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                        : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                return Status.UNAVAILABLE.withDescription("Path \"" + p + "\": " + why).asException();
            }
        }
        return null;
    }
}
