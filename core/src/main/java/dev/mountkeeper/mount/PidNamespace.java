package dev.mountkeeper.mount;

import dev.mountkeeper.linux.Fd;
import java.io.IOException;

/** The pid namespace a sandbox's procfs shows. */
public interface PidNamespace {
    /** An fd of the namespace, for {@code fsconfig(fd, FSCONFIG_SET_FD, "pidns", NULL, nsfd)}. */
    Fd fd();

    /**
     * The fallback for kernels without "pidns": a process inside the namespace mounts a procfs
     * (nosuid, nodev, noexec) onto the directory {@code target} refers to, and has exited when this returns.
     */
    void mountProcFromInside(Fd target) throws IOException;
}
