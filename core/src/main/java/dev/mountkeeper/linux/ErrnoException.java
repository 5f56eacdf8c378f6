package dev.mountkeeper.linux;

import java.io.IOException;

/**
 * A system call failed. The message is the call as it was made, then the errno name and text:
 * {@code move_mount(7, "", 9, "proc", MOVE_MOUNT_F_EMPTY_PATH): EPERM (Operation not permitted)}.
 * Layers above wrap it once each with their own context; they never repeat this text.
 */
public final class ErrnoException extends IOException {
    private final String syscall;
    private final String call;
    private final Errno errno;

    ErrnoException(String syscall, String call, Errno errno) {
        super(call + ": " + errno);
        this.syscall = syscall;
        this.call = call;
        this.errno = errno;
    }

    /** The system call's name, e.g. "move_mount". */
    public String syscall() { return syscall; }

    /** The call with its arguments, as it would be written in C. */
    public String call() { return call; }

    public Errno errno() { return errno; }

    public boolean is(Errno e) { return errno.equals(e); }

    /** Errno exceptions are often expected (probing, retries): the trace of the caller says enough. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
