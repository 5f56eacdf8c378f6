package dev.mountkeeper.mount;

import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.MountTableSyscalls;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the running kernel offers, each with a fallback that can be forced (for tests, and for
 * kernels or seccomp profiles that misbehave) by naming it in MOUNTKEEPER_FALLBACK or the system
 * property mountkeeper.fallback: {@code mount-api}, {@code listmount}, {@code mnt-id-unique},
 * {@code pidns}.
 *
 * @param mountApi       fsopen/fsmount/open_tree/move_mount (5.2); else classic mount(2) on fd paths
 * @param listmount      listmount/statmount (6.8); else /proc/thread-self/mountinfo
 * @param uniqueMountIds 64-bit never-reused mount ids (6.8), used only together with listmount so
 *                       that the table and statx agree on which ids they speak of
 * @param procPidns      procfs takes the pid namespace to show as an fd ("pidns", 6.17 or so), so a
 *                       sandbox's /proc is made from outside it; else a process inside mounts it
 */
public record KernelFeatures(boolean mountApi, boolean listmount, boolean uniqueMountIds, boolean procPidns) {
    public static final List<String> FALLBACKS = List.of("mount-api", "listmount", "mnt-id-unique", "pidns");

    private static volatile KernelFeatures current;

    /** The features of this kernel, less the fallbacks forced by the environment. */
    public static KernelFeatures current() {
        KernelFeatures f = current;
        if (f == null) {
            String forced = System.getProperty("mountkeeper.fallback", System.getenv().getOrDefault("MOUNTKEEPER_FALLBACK", ""));
            current = f = detect().without(forced);
        }
        return f;
    }

    public static KernelFeatures detect() {
        boolean api = probeMountApi();
        return new KernelFeatures(api, probeListmount(), probeUniqueIds(), api && probeProcPidns());
    }

    /** These features with the named fallbacks forced, e.g. "mount-api,listmount". */
    public KernelFeatures without(String fallbacks) {
        Set<String> names = new LinkedHashSet<>();
        for (String n : fallbacks.split("[,\\s]+")) if (!n.isEmpty()) names.add(n);
        for (String n : names) {
            if (!FALLBACKS.contains(n)) {
                throw new IllegalArgumentException("unknown fallback \"" + n + "\" (known: " + String.join(", ", FALLBACKS) + ")");
            }
        }
        boolean lm = listmount && !names.contains("listmount");
        return new KernelFeatures(mountApi && !names.contains("mount-api"), lm,
                uniqueMountIds && lm && !names.contains("mnt-id-unique"),
                procPidns && mountApi && !names.contains("mount-api") && !names.contains("pidns"));
    }

    /** The statx mask that yields the kind of mount id the mount table speaks of. */
    public int statxMountIdMask() {
        return uniqueMountIds ? FileSyscalls.STATX_MNT_ID_UNIQUE : FileSyscalls.STATX_MNT_ID;
    }

    @Override
    public String toString() {
        return "mount API " + (mountApi ? "new" : "classic") + ", mount table from "
                + (listmount ? "listmount" : "mountinfo") + ", mount ids " + (uniqueMountIds ? "unique" : "reusable")
                + ", procfs " + (procPidns ? "made with pidns" : "made from inside the pid namespace");
    }

    /** Only ENOSYS means absent: EPERM (not root in this mount namespace's user namespace) says nothing. */
    private static boolean probeMountApi() {
        try (Fd fs = MountSyscalls.fsopen("tmpfs")) {
            return fs.isOpen();
        } catch (ErrnoException e) {
            return !e.is(Errno.ENOSYS);
        }
    }

    private static boolean probeProcPidns() {
        try (Fd fs = MountSyscalls.fsopen("proc");
             Fd ns = FileSyscalls.openat(FileSyscalls.AT_FDCWD, "/proc/thread-self/ns/pid", FileSyscalls.O_RDONLY, 0)) {
            MountSyscalls.fsconfigSetFd(fs, "pidns", ns);
            return true;
        } catch (ErrnoException e) {
            // EPERM: fsopen is not ours to call here (a rootless run probes from the host's mount
            // namespace); assume it, and the sandbox falls back if the kernel then says EINVAL.
            return e.syscall().equals("fsopen") && e.is(Errno.EPERM);
        }
    }

    private static boolean probeListmount() {
        try {
            return MountTableSyscalls.listmount(MountTableSyscalls.LSMT_ROOT, 0, 1).length >= 0;
        } catch (ErrnoException e) {
            return false;
        }
    }

    private static boolean probeUniqueIds() {
        try {
            return FileSyscalls.statx(FileSyscalls.AT_FDCWD, "/", 0, FileSyscalls.STATX_MNT_ID_UNIQUE).hasUniqueMountId();
        } catch (ErrnoException e) {
            return false;
        }
    }

}
