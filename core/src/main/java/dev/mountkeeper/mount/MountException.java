package dev.mountkeeper.mount;

import java.io.IOException;

/**
 * A mount or unmount failed. The message is one "Failed to ..." prefix naming the paths, then the
 * cause's message (usually the system call and its errno), never repeated.
 */
public class MountException extends IOException {
    /** Whose fault it was: bad input is the caller's (exit 2, INVALID_ARGUMENT); the rest is ours or the system's. */
    public enum Reason { INVALID_INPUT, BUSY, SYSTEM }

    private final Reason reason;

    public MountException(Reason reason, String message, Throwable cause) {
        super(cause == null ? message : message + ": " + cause.getMessage(), cause);
        this.reason = reason;
    }

    public MountException(Reason reason, String message) {
        this(reason, message, null);
    }

    public Reason reason() { return reason; }
}
