package dev.mountkeeper.mount;

import static dev.mountkeeper.linux.FileSyscalls.*;
import static dev.mountkeeper.linux.MountSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.linux.Statx;
import java.io.IOException;
import java.util.List;

/**
 * What a procfs or sysfs handed to a workload hides. The command of a root sandbox has no
 * capabilities but is uid 0, and the kernel's files under /proc/sys and friends check the uid,
 * not a capability: writing kernel.core_pattern from there runs a program as root on the host.
 * So, as container runtimes do, the writable kernel knobs are made read-only and the files that
 * leak the kernel's memory, keys and timers are covered.
 */
final class WorkloadMasks {
    private WorkloadMasks() {}

    /** READ_ONLY: bound onto itself read-only. MASK: covered (a file by /dev/null, a directory by an empty read-only tmpfs). */
    enum Kind { READ_ONLY, MASK }

    record Entry(String path, Kind kind) {}

    static final List<Entry> PROC = List.of(
            new Entry("sys", Kind.READ_ONLY), new Entry("sysrq-trigger", Kind.READ_ONLY), new Entry("irq", Kind.READ_ONLY),
            new Entry("bus", Kind.READ_ONLY), new Entry("fs", Kind.READ_ONLY),
            new Entry("kcore", Kind.MASK), new Entry("keys", Kind.MASK), new Entry("key-users", Kind.MASK),
            new Entry("timer_list", Kind.MASK), new Entry("timer_stats", Kind.MASK), new Entry("sched_debug", Kind.MASK),
            new Entry("latency_stats", Kind.MASK), new Entry("kpagecount", Kind.MASK), new Entry("kpageflags", Kind.MASK),
            new Entry("kpagecgroup", Kind.MASK), new Entry("acpi", Kind.MASK), new Entry("scsi", Kind.MASK), new Entry("asound", Kind.MASK));

    /** A workload's sysfs is read-only as a whole; these are not to be read either. */
    static final List<Entry> SYSFS = List.of(new Entry("firmware", Kind.MASK), new Entry("devices/virtual/powercap", Kind.MASK));

    private static final long RO = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

    /**
     * Applies {@code entries} inside the filesystem whose root is open as {@code top}, fresh and
     * not yet seen by anything of the sandbox's, so its names cannot be swapped meanwhile. An
     * entry this kernel does not have is skipped.
     */
    static void apply(KernelFeatures features, Fd top, List<Entry> entries, String where) throws IOException {
        Fd devNull = null;
        try {
            for (Entry e : entries) {
                String parent = SpecPaths.parent("/" + e.path()).substring(1), name = SpecPaths.name("/" + e.path());
                try (Fd dir = parent.isEmpty() ? null : openat2(top.get(), parent, O_PATH | O_DIRECTORY, 0, Root.NO_LINKS)) {
                    int dirfd = dir == null ? top.get() : dir.get();
                    Statx st = statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE);
                    if (st.isSymlink()) continue; // "self", "mounts": nothing of the kernel's to write through
                    if (e.kind() == Kind.READ_ONLY) {
                        readOnly(features, dirfd, name);
                    } else if (st.isDirectory()) {
                        emptyDirectory(features, dirfd, name);
                    } else {
                        if (devNull == null) devNull = openat2(AT_FDCWD, "/dev/null", O_PATH, 0, 0);
                        cover(features, devNull, dirfd, name);
                    }
                } catch (ErrnoException x) {
                    if (x.is(Errno.ENOENT)) continue; // not in this kernel (or this configuration)
                    throw new MountException(Mounter.reasonOf(x), "Failed to " + (e.kind() == Kind.READ_ONLY
                            ? "make " : "mask ") + Quote.string(where + "/" + e.path()) + (e.kind() == Kind.READ_ONLY
                            ? " read-only" : ""), x);
                }
            }
        } finally {
            if (devNull != null) devNull.close();
        }
    }

    private static void readOnly(KernelFeatures features, int dirfd, String name) throws ErrnoException {
        if (features.mountApi()) {
            try (Fd m = openTree(dirfd, name, OPEN_TREE_CLONE | AT_RECURSIVE)) {
                mountSetattr(m.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, RO, 0, 0);
                moveMount(m.get(), "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH);
            }
            return;
        }
        String at = "/proc/thread-self/fd/" + dirfd + "/" + name;
        MountSyscalls.mount(at, at, null, MS_BIND | MS_REC, null);
        MountSyscalls.mount(null, at, null, MS_REMOUNT | MS_BIND | RO, null);
    }

    private static void cover(KernelFeatures features, Fd devNull, int dirfd, String name) throws ErrnoException {
        if (features.mountApi()) {
            try (Fd m = openTree(devNull.get(), "", OPEN_TREE_CLONE | AT_EMPTY_PATH)) {
                mountSetattr(m.get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, 0);
                moveMount(m.get(), "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH);
            }
            return;
        }
        String at = "/proc/thread-self/fd/" + dirfd + "/" + name;
        MountSyscalls.mount("/proc/thread-self/fd/" + devNull.get(), at, null, MS_BIND, null);
        MountSyscalls.mount(null, at, null, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, null);
    }

    private static void emptyDirectory(KernelFeatures features, int dirfd, String name) throws ErrnoException {
        if (features.mountApi()) {
            try (Fd ctx = fsopen("tmpfs")) {
                fsconfigSetString(ctx, "source", "mountkeeper-mask");
                fsconfigSetString(ctx, "size", "4k");
                fsconfigSetString(ctx, "mode", "0555");
                fsconfigCreate(ctx);
                try (Fd m = fsmount(ctx, RO)) {
                    moveMount(m.get(), "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH);
                }
            }
            return;
        }
        MountSyscalls.mount("mountkeeper-mask", "/proc/thread-self/fd/" + dirfd + "/" + name, "tmpfs", RO, "size=4k,mode=0555");
    }
}
