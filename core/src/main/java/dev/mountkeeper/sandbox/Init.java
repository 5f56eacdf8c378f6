package dev.mountkeeper.sandbox;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls.Pipe;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.mount.MountException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PID 1 of a sandbox's pid namespace: the host's cat(1), blocked reading a pipe whose write end
 * only we hold. If we die, however we die, the pipe closes, cat exits, and the kernel kills every
 * process left in the namespace; killing it is also how a run kills its whole tree at once. It is
 * started before the pivot with "/" as root and working directory, so the pivot moves both of
 * them into the sandbox and the host's root is not reachable through /proc/1/root.
 */
final class Init implements AutoCloseable {
    /** Looked up once: every run starts one. */
    private static final Optional<String> CAT = HostPrograms.find(HostPrograms.CAT);

    final int pid;
    private final Pipe lifeline;
    private final Pipe echo;
    private boolean reaped;

    private Init(int pid, Pipe lifeline, Pipe echo) {
        this.pid = pid;
        this.lifeline = lifeline;
        this.echo = echo;
    }

    /**
     * Starts it from the calling thread, which has just unshared CLONE_NEWPID. It loads while the
     * root is built; {@link #awaitRunning()} must be called before the pivot.
     */
    static Init start() throws IOException {
        String cat = CAT.orElseThrow(() -> new MountException(MountException.Reason.SYSTEM, "No cat(1) on this host to be PID 1 of a sandbox"));
        Pipe lifeline = ProcessSyscalls.pipe();
        Pipe echo;
        try {
            echo = ProcessSyscalls.pipe();
        } catch (ErrnoException e) {
            lifeline.close();
            throw e;
        }
        int pid;
        try (Fd devNull = FileSyscalls.openat(FileSyscalls.AT_FDCWD, "/dev/null", FileSyscalls.O_WRONLY, 0)) {
            pid = new Spawn(cat, List.of("mountkeeper-init"), List.of(), "/",
                    Map.of(0, lifeline.read(), 1, echo.write(), 2, devNull)).start();
        } catch (IOException | RuntimeException e) {
            lifeline.close();
            echo.close();
            throw e;
        }
        lifeline.read().close();
        echo.write().close();
        Init init = new Init(pid, lifeline, echo);
        try {
            ProcessSyscalls.writeAll(lifeline.write(), new byte[] {'\n'});
        } catch (IOException | RuntimeException e) {
            init.close();
            throw e;
        }
        return init;
    }

    /**
     * Waits for the byte sent at start to come back through cat: then it is loaded and blocked in
     * read(2), no longer in ld.so, which after the pivot would look for its libraries in the sandbox.
     */
    void awaitRunning() throws IOException {
        if (ProcessSyscalls.read(echo.read(), 1).length != 1) {
            throw new MountException(MountException.Reason.SYSTEM, "The sandbox's PID 1 (cat) exited at start");
        }
    }

    /** Kills the whole namespace: every process in it gets SIGKILL when PID 1 dies. */
    void killAll() {
        try {
            if (!reaped) ProcessSyscalls.kill(pid, ProcessSyscalls.SIGKILL);
        } catch (ErrnoException e) {
            // already gone
        }
    }

    /** Kills and reaps it; the kernel has killed the rest of the namespace when this returns. */
    @Override
    public void close() {
        killAll();
        if (!reaped) {
            try {
                ProcessSyscalls.wait4(pid);
            } catch (ErrnoException e) {
                // not our child any more
            }
            reaped = true;
        }
        lifeline.close();
        echo.close();
    }
}
