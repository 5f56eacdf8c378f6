package dev.mountkeeper.sandbox;

import dev.mountkeeper.mount.MountException;

/**
 * A sandbox could not run its command. {@code status} is what a shell would exit with: 127 for a
 * command that was not found, 126 for one that cannot be executed, 2 for bad input, 1 otherwise.
 */
public final class SandboxException extends MountException {
    private final int status;

    public SandboxException(Reason reason, int status, String message, Throwable cause) {
        super(reason, message, cause);
        this.status = status;
    }

    public static SandboxException commandNotFound(String message) {
        return new SandboxException(Reason.INVALID_INPUT, 127, message, null);
    }

    public static SandboxException notExecutable(String message, Throwable cause) {
        return new SandboxException(Reason.INVALID_INPUT, 126, message, cause);
    }

    public int status() { return status; }
}
