package dev.mountkeeper.bb;

import static dev.mountkeeper.linux.NamespaceSyscalls.*;

import dev.mountkeeper.bb.proto.runner.CheckReadinessRequest;
import dev.mountkeeper.bb.proto.runner.RunRequest;
import dev.mountkeeper.bb.proto.runner.RunResponse;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.NamespaceSyscalls;
import dev.mountkeeper.mount.MountSpec;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Ready only if actions could get their mounts: a throwaway thread may make the namespaces, every
 * filesystem type can be instantiated and every bind source cloned. The probes make detached mounts
 * only, which dissolve when their fds close: nothing is attached anywhere, nothing can leak.
 */
final class MountCheckingRunner implements Runner {
    private final Runner base;
    private final List<MountSpec> mounts;

    MountCheckingRunner(Runner base, List<MountSpec> mounts) {
        this.base = base;
        this.mounts = List.copyOf(mounts);
    }

    @Override
    public RunResponse run(RunRequest request) throws StatusException {
        return base.run(request);
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request) throws StatusException {
        try {
            namespaces();
            for (MountSpec m : mounts) probe(m);
        } catch (ErrnoException e) {
            throw Status.UNAVAILABLE.withDescription("Mounting does not work here, so actions would fail: "
                    + e.getMessage() + " (chroot_into_input_root, input_root_mounts and symlink_temporary_directories"
                    + " need a runner with CAP_SYS_ADMIN)").asException();
        }
        base.checkReadiness(request);
    }

    /** Whether this process may make the namespaces a sandbox needs (false for an unprivileged runner). */
    static boolean namespacesWork() {
        try {
            namespaces();
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    private static void namespaces() throws ErrnoException {
        AtomicReference<ErrnoException> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("mountkeeper-readiness").start(() -> {
            try {
                NamespaceSyscalls.unshare(CLONE_NEWNS | CLONE_FS | CLONE_NEWPID);
            } catch (ErrnoException e) {
                failure.set(e);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) throw failure.get();
    }

    private static void probe(MountSpec m) throws ErrnoException {
        switch (m) {
            case MountSpec.Filesystem f -> fresh(f.fsType().word());
            case MountSpec.Dev d -> fresh("tmpfs");
            case MountSpec.Bind b -> {
                try (Fd tree = MountSyscalls.openTree(FileSyscalls.AT_FDCWD, b.source(),
                        MountSyscalls.OPEN_TREE_CLONE | MountSyscalls.OPEN_TREE_CLOEXEC)) {
                    // cloned and dropped
                } catch (ErrnoException e) {
                    if (!b.options().optional()) throw e;
                }
            }
            case MountSpec.Dir d -> {}
            case MountSpec.Symlink l -> {}
            case MountSpec.Provided p -> {} // its provider was found when the spec was parsed
        }
    }

    private static void fresh(String type) throws ErrnoException {
        try (Fd fs = MountSyscalls.fsopen(type)) {
            MountSyscalls.fsconfigCreate(fs);
            MountSyscalls.fsmount(fs, MountSyscalls.MOUNT_ATTR_NOSUID | MountSyscalls.MOUNT_ATTR_NODEV
                    | MountSyscalls.MOUNT_ATTR_NOEXEC).close();
        }
    }
}
