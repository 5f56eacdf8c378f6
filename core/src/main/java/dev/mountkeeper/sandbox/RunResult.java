package dev.mountkeeper.sandbox;

import dev.mountkeeper.linux.ResourceUsage;
import java.time.Duration;

/**
 * How a sandboxed command ended.
 *
 * @param exitCode the command's exit status, or -1 when a signal ended it
 * @param signal   the signal that ended it, or 0
 * @param timedOut  the run hit its timeout and the sandbox killed it
 * @param cancelled the caller cancelled the run ({@link SandboxRunner.Execution#cancel()}) and the
 *                  sandbox killed it
 * @param usage    the command's resource usage, from wait4
 */
public record RunResult(int exitCode, int signal, boolean timedOut, boolean cancelled, ResourceUsage usage, Duration wallTime) {
    /** The status a shell would report: the exit code, or 128+N for signal N. */
    public int shellStatus() {
        return signal != 0 ? 128 + signal : exitCode;
    }
}
