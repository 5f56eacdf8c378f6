package dev.mountkeeper.shared;

import java.util.concurrent.TimeUnit;

/** A holder process: a `sleep` that lives until killed. */
final class HolderProcess implements AutoCloseable {
    final Process process;

    HolderProcess() throws Exception {
        process = new ProcessBuilder("sleep", "3600").start();
    }

    long pid() {
        return process.pid();
    }

    /** The JSON of a holder naming this process. */
    String json() {
        return "{\"pid\": " + pid() + "}";
    }

    void kill() {
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
