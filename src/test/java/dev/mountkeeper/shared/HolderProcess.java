package dev.mountkeeper.shared;

import java.util.concurrent.TimeUnit;

/** A holder process: a `sleep` that lives until killed. */
public final class HolderProcess implements AutoCloseable {
    public final Process process;

    public HolderProcess() throws Exception {
        process = new ProcessBuilder("sleep", "3600").start();
    }

    public long pid() {
        return process.pid();
    }

    /** The JSON of a holder naming this process. */
    public String json() {
        return "{\"pid\": " + pid() + "}";
    }

    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
    }
}
