package dev.mountkeeper.shared;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A holder process: a `sleep` that lives until killed, root's or another user's. */
public final class HolderProcess implements AutoCloseable {
    public final Process process;

    public HolderProcess() throws Exception {
        process = new ProcessBuilder("sleep", "3600").start();
    }

    /** A holder that belongs to {@code uid} (setpriv execs the sleep: the pid is the holder's). */
    public HolderProcess(int uid) throws Exception {
        process = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "sleep", "3600").start();
        Path comm = Path.of("/proc", Long.toString(process.pid()), "comm");
        Requests.waitUntil(() -> Processes.identify(process.pid()).map(i -> i.uid() == uid).orElse(false)
                && read(comm).equals("sleep"), "the holder of uid " + uid + " to be its sleep");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return "";
        }
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
