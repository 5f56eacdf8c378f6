package dev.mountkeeper.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * --info-fd and --json-status-fd: the JSON bubblewrap writes there, which Flatpak and others parse.
 * Once the command runs, {@code {"child-pid": N, "cgroup-namespace": ..., "mnt-namespace": ...}}
 * (the namespace ids are the inode numbers of the command's /proc/PID/ns links); on --json-status-fd,
 * when it ends, {@code {"exit-code": N}}, one object a line. The fd is the caller's, reached through
 * /proc/self/fd, and closed after the last object (info after the first), as bubblewrap does.
 */
final class StatusFd {
    private static final String[] NAMESPACES = {"cgroup", "ipc", "mnt", "net", "pid", "uts"};

    private final int fd;
    private FileOutputStream out;

    private StatusFd(int fd, FileOutputStream out) {
        this.fd = fd;
        this.out = out;
    }

    static int number(String option, String s) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(option + " " + s + " is not a file descriptor number");
    }

    static StatusFd open(int fd) {
        try {
            return new StatusFd(fd, new FileOutputStream("/proc/self/fd/" + fd, true));
        } catch (IOException e) {
            throw new IllegalArgumentException("fd " + fd + " is not open for writing: " + e.getMessage());
        }
    }

    /** The command runs as {@code pid}; {@code last}: close the fd after this. */
    void started(int pid, boolean last) {
        StringBuilder json = new StringBuilder("{\n    \"child-pid\": ").append(pid);
        for (String ns : NAMESPACES) {
            try {
                Object ino = Files.getAttribute(Path.of("/proc/" + pid + "/ns/" + ns), "unix:ino");
                json.append(",\n    \"").append(ns).append("-namespace\": ").append(ino);
            } catch (IOException | UnsupportedOperationException e) {
                // a kernel without this namespace type: bubblewrap leaves it out too
            }
        }
        write(json.append("\n}\n").toString(), last);
    }

    void exited(int status) {
        write("{ \"exit-code\": " + status + " }\n", true);
    }

    private void write(String text, boolean last) {
        if (out == null) return;
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (last) {
                out.close();
                out = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Failed to write to fd " + fd, e);
        }
    }
}
