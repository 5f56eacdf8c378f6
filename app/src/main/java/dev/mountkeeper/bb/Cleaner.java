package dev.mountkeeper.bb;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.Spawn;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Something that puts the machine back in order between actions (run by {@link CleanRunner} when idle). */
interface Cleaner {
    void clean() throws StatusException;

    /** Empties a directory (clean_temporary_directories), without following symlinks in it. */
    static Cleaner directory(Path dir) {
        return () -> {
            try (var entries = Files.list(dir)) {
                for (Path p : (Iterable<Path>) entries::iterator) removeTree(p);
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("Failed to clean temporary directory \"" + dir + "\": " + e)
                        .asException();
            }
        };
    }

    private static void removeTree(Path p) throws IOException {
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.deleteIfExists(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Runs a command (run_command_cleaner) and fails if it does not exit 0. */
    static Cleaner command(List<String> argv) {
        return () -> {
            List<String> env = new ArrayList<>();
            for (Map.Entry<String, String> e : System.getenv().entrySet()) env.add(e.getKey() + "=" + e.getValue());
            try {
                int pid = new Spawn(argv.getFirst(), argv, env, "/", Map.of()).start();
                ProcessSyscalls.Exit exit = ProcessSyscalls.wait4(pid);
                if (exit.exitCode() != 0 || exit.signal() != 0) {
                    throw Status.INTERNAL.withDescription("Cleaning command " + argv + " failed: "
                            + (exit.signal() != 0 ? "signal " + exit.signal() : "exit status " + exit.exitCode()))
                            .asException();
                }
            } catch (ErrnoException e) {
                throw Status.INTERNAL.withDescription("Failed to run cleaning command " + argv + ": " + e.getMessage())
                        .asException();
            }
        };
    }
}
