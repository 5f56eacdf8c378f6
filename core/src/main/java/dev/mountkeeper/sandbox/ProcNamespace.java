package dev.mountkeeper.sandbox;

import static dev.mountkeeper.linux.FileSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.ProcessSyscalls;
import dev.mountkeeper.linux.ProcessSyscalls.Exit;
import dev.mountkeeper.linux.ProcessSyscalls.Pipe;
import dev.mountkeeper.linux.Spawn;
import dev.mountkeeper.mount.MountException;
import dev.mountkeeper.mount.PidNamespace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The sandbox's pid namespace, for its /proc. Where procfs has no "pidns" parameter, the host's
 * mount(8) is started inside the namespace (it is the second process there) and mounts onto the
 * target through /proc/self/fd/3, which names our open descriptor, never a path that could change.
 */
record ProcNamespace(Fd fd) implements PidNamespace {
    @Override
    public void mountProcFromInside(Fd target) throws IOException {
        String mount = HostPrograms.find(HostPrograms.MOUNT)
                .orElseThrow(() -> new MountException(MountException.Reason.SYSTEM, "No mount(8) on this host for the procfs fallback"));
        // mount(8) refuses an O_PATH descriptor ("mount point does not exist"): reopen the same directory.
        try (Pipe err = ProcessSyscalls.pipe();
             Fd devNull = openat(AT_FDCWD, "/dev/null", O_RDWR, 0);
             Fd dir = openat(AT_FDCWD, "/proc/thread-self/fd/" + target.get(), O_RDONLY | O_DIRECTORY, 0)) {
            int pid = new Spawn(mount, List.of("mount", "--no-canonicalize", "-t", "proc", "-o", "nosuid,nodev,noexec",
                    "proc", "/proc/self/fd/3"), List.of("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), "/",
                    Map.of(0, devNull, 1, devNull, 2, err.write(), 3, dir)).start();
            err.write().close();
            var message = new java.io.ByteArrayOutputStream();
            for (byte[] b; (b = ProcessSyscalls.read(err.read(), 4096)).length > 0 && message.size() < 65536; ) message.writeBytes(b);
            Exit exit = ProcessSyscalls.wait4(pid);
            if (exit.exitCode() != 0) {
                throw new MountException(MountException.Reason.SYSTEM, "mount(8) inside the sandbox's pid namespace failed ("
                        + (exit.signaled() ? "signal " + exit.signal() : "exit " + exit.exitCode()) + "): "
                        + message.toString(StandardCharsets.UTF_8).strip());
            }
        } catch (ErrnoException e) {
            throw new MountException(MountException.Reason.SYSTEM, "Failed to mount the sandbox's procfs from inside it", e);
        }
    }
}
