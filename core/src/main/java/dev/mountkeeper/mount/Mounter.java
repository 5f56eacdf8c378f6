package dev.mountkeeper.mount;

import static dev.mountkeeper.linux.FileSyscalls.*;
import static dev.mountkeeper.linux.MountSyscalls.*;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.MountSyscalls;
import dev.mountkeeper.linux.Quote;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * mountat: applies specs inside a {@link Root}. Each mount is built detached (fsopen/fsmount or an
 * open_tree clone), given its attributes while nobody can see it, and moved onto an O_PATH fd of
 * its destination; the classic fallback mounts onto /proc/thread-self/fd/N instead. Nothing is
 * ever mounted by a path string that could be swapped underneath.
 */
public final class Mounter {
    /** The minimal /dev's devices, with their fixed numbers (the kernel's devices.txt). */
    private static final List<DevNode> DEV_NODES = List.of(new DevNode("null", 1, 3), new DevNode("zero", 1, 5),
            new DevNode("full", 1, 7), new DevNode("random", 1, 8), new DevNode("urandom", 1, 9), new DevNode("tty", 5, 0));

    private record DevNode(String name, int major, int minor) {}
    private static final List<String[]> DEV_LINKS = List.of(new String[] {"fd", "/proc/self/fd"},
            new String[] {"stdin", "/proc/self/fd/0"}, new String[] {"stdout", "/proc/self/fd/1"},
            new String[] {"stderr", "/proc/self/fd/2"}, new String[] {"ptmx", "pts/ptmx"},
            new String[] {"core", "/proc/kcore"});

    private final KernelFeatures features;
    private final boolean createMountpoints;
    private final Unmounter unmounter;
    private final Sandboxing sandboxing;
    private final BindSources hostSources;
    private final Stager stager;
    private final Destinations destinations;
    private final List<String[]> procParams;
    private final boolean coverLockedProc;

    /**
     * What changes when the mounts go into a sandbox's own mount namespace: bind sources come from
     * descriptors opened before the sandbox's root covered anything, a source may contain its
     * destination (the namespace is private and a clone is a snapshot, so nothing can loop), and a
     * procfs shows the sandbox's pid namespace.
     *
     * @param deviceNodes a minimal /dev may get device nodes of its own (mknod, which needs root in
     *                    the initial user namespace) instead of one bind mount per device
     */
    public record Sandboxing(BindSources sources, PidNamespace pidns, boolean deviceNodes) {}

    /** Gets a provider's mount made at a staging place, ready to be moved into the root. */
    public interface Stager {
        Staged stage(MountSpec.Provided spec) throws IOException;
    }

    /**
     * Checks a resolved destination just before anything is mounted on it: the descriptor is the
     * one the mount goes onto, {@code path} its symlink-free path inside the root.
     */
    public interface Destinations {
        void check(Root root, String path, Fd target) throws IOException;
    }

    /** Opens a bind source; a sandbox hands out descriptors it opened earlier. */
    public interface BindSources {
        Fd open(String source) throws IOException;
    }

    /**
     * @param createMountpoints create missing destinations (directories, or an empty file for a
     *                          file bind) inside the root; otherwise a missing one is an error
     */
    public Mounter(KernelFeatures features, boolean createMountpoints, UnmountPolicy policy) {
        this.features = features;
        this.createMountpoints = createMountpoints;
        this.unmounter = new Unmounter(features, policy);
        this.sandboxing = null;
        this.hostSources = null;
        this.stager = null;
        this.destinations = null;
        this.procParams = List.of();
        this.coverLockedProc = false;
    }

    private Mounter(Mounter m, Sandboxing sandboxing, BindSources hostSources, Stager stager, Destinations destinations,
                    List<String[]> procParams) {
        this.features = m.features;
        this.createMountpoints = m.createMountpoints;
        this.unmounter = m.unmounter;
        this.sandboxing = sandboxing;
        this.hostSources = hostSources;
        this.stager = stager;
        this.destinations = destinations;
        this.procParams = procParams;
        this.coverLockedProc = m.coverLockedProc;
    }

    private Mounter(Mounter m, boolean coverLockedProc) {
        this.features = m.features;
        this.createMountpoints = m.createMountpoints;
        this.unmounter = m.unmounter;
        this.sandboxing = m.sandboxing;
        this.hostSources = m.hostSources;
        this.stager = m.stager;
        this.destinations = m.destinations;
        this.procParams = m.procParams;
        this.coverLockedProc = coverLockedProc;
    }

    /**
     * This mounter, for one fresh procfs over the root of a procfs that the kernel will not let a
     * user namespace detach (it came locked with the host's tree, as in a rootless `--bind / /`):
     * covering the whole of it hides the kernel's files and changes none. Nothing else is mounted
     * on a procfs, and never below its root.
     */
    public Mounter coveringLockedProc() {
        return new Mounter(this, true);
    }

    /** This mounter, for use inside a sandbox's own mount namespace. */
    public Mounter inSandbox(Sandboxing s) {
        return new Mounter(this, s, null, stager, destinations, procParams);
    }

    /** This mounter, opening bind sources through {@code sources} (which may check where they lead). */
    public Mounter withSources(BindSources sources) {
        return new Mounter(this, sandboxing, sources, stager, destinations, procParams);
    }

    /** This mounter, with a staging place for providers' mounts. */
    public Mounter withStager(Stager s) {
        return new Mounter(this, sandboxing, hostSources, s, destinations, procParams);
    }

    /** This mounter, asking {@code d} about every destination before mounting on it. */
    public Mounter withDestinations(Destinations d) {
        return new Mounter(this, sandboxing, hostSources, stager, d, procParams);
    }

    /**
     * This mounter, giving every fresh procfs these fsconfig parameters (the daemon's: the host
     * /proc's hidepid, gid and subset, so a procfs it makes shows no more than the host's).
     */
    public Mounter withProcParams(List<String[]> params) {
        return new Mounter(this, sandboxing, hostSources, stager, destinations, List.copyOf(params));
    }

    /** Resolves a destination, then lets {@link #destinations} refuse the descriptor itself. */
    private Target target(Root root, String dest, Target.Kind kind, List<Root.Created> created) throws IOException {
        Target t = Target.resolve(root, dest, kind, createMountpoints, created, coverLockedProc);
        if (destinations == null) return t;
        try {
            destinations.check(root, t.path(), t.fd());
            return t;
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    public static Mounter create() {
        return new Mounter(KernelFeatures.current(), true, UnmountPolicy.DEFAULT);
    }

    public KernelFeatures features() { return features; }

    public Unmounter unmounter() { return unmounter; }

    /** Applies the specs in order; if one fails, undoes the ones before it (last first) and throws. */
    public List<Mounted> mountAll(Root root, List<MountSpec> specs) throws IOException {
        List<Mounted> done = new ArrayList<>();
        // What each spec created, undone too if a later spec fails. A created entry holds its parent's
        // fd, which pins the mount it lies in: so spec i is unmounted, then its entries undone, last first.
        List<List<Root.Created>> created = new ArrayList<>();
        try {
            for (MountSpec s : specs) {
                created.add(new ArrayList<>());
                done.add(mount(root, s, created.getLast()));
            }
            created.forEach(c -> finish(c, true));
            return done;
        } catch (IOException | RuntimeException e) {
            for (int i = created.size() - 1; i >= 0; i--) {
                try {
                    if (i < done.size()) unmounter.unmount(root, done.get(i));
                } catch (IOException undo) {
                    e.addSuppressed(undo);
                }
                finish(created.get(i), false);
            }
            throw e;
        }
    }

    /** Applies one spec. On failure nothing it made remains: no mount, no created mountpoint. */
    public Mounted mount(Root root, MountSpec spec) throws IOException {
        List<Root.Created> created = new ArrayList<>();
        boolean ok = false;
        try {
            Mounted m = mount(root, spec, created);
            ok = true;
            return m;
        } finally {
            finish(created, ok);
        }
    }

    private static void finish(List<Root.Created> created, boolean keep) {
        for (Root.Created c : created.reversed()) {
            if (keep) c.close();
            else c.undo();
        }
    }

    /** Applies one spec, appending what it created; on failure it has undone its own mount, not {@code created}. */
    private Mounted mount(Root root, MountSpec spec, List<Root.Created> created) throws IOException {
        try {
            Mounted m = switch (spec) {
                case MountSpec.Bind b -> bind(root, b, created);
                case MountSpec.Filesystem f -> filesystem(root, f, created);
                case MountSpec.Dev d -> dev(root, d, created);
                case MountSpec.Dir d -> dir(root, d, created);
                case MountSpec.Symlink s -> symlink(root, s, created);
                case MountSpec.Provided p -> provided(root, p, created);
            };
            return m;
        } catch (ErrnoException e) {
            throw new MountException(reasonOf(e), "Failed to " + verb(spec) + " on "
                    + Quote.string(root.hostPath(spec.dest())), e);
        }
    }

    private static String verb(MountSpec spec) {
        return switch (spec) {
            case MountSpec.Bind b -> "bind mount " + Quote.string(b.source());
            case MountSpec.Filesystem f -> "mount " + Quote.string(f.label());
            case MountSpec.Dev d -> "mount a minimal /dev";
            case MountSpec.Dir d -> "create a directory";
            case MountSpec.Symlink s -> "create a symbolic link to " + Quote.string(s.target());
            case MountSpec.Provided p -> "mount " + Quote.string(p.source()) + " through provider " + Quote.string(p.provider());
        };
    }

    static MountException.Reason reasonOf(ErrnoException e) {
        Errno n = e.errno();
        if (n.equals(Errno.ENOENT) || n.equals(Errno.ENOTDIR) || n.equals(Errno.ELOOP) || n.equals(Errno.EISDIR)
                || n.equals(Errno.ENAMETOOLONG)) {
            return MountException.Reason.INVALID_INPUT;
        }
        return n.equals(Errno.EBUSY) ? MountException.Reason.BUSY : MountException.Reason.SYSTEM;
    }

    private Mounted bind(Root root, MountSpec.Bind b, List<Root.Created> created) throws IOException {
        Fd src;
        try {
            src = sandboxing != null ? sandboxing.sources().open(b.source())
                    : hostSources != null ? hostSources.open(b.source()) : openat2(AT_FDCWD, b.source(), O_PATH, 0, 0);
        } catch (ErrnoException e) {
            if (e.is(Errno.ENOENT) && b.options().optional()) return new Mounted(b, b.dest(), 0);
            throw new MountException(reasonOf(e), "Failed to open bind source " + Quote.string(b.source()), e);
        }
        try (src) {
            boolean dir = Root.stat(src).isDirectory();
            try (Target t = target(root, b.dest(), dir ? Target.Kind.DIRECTORY : Target.Kind.FILE, created)) {
                if (sandboxing == null) { // in a sandbox a source may contain its destination: see Sandboxing
                    String srcPath = FileSyscalls.fdPath(src);
                    String destHost = FileSyscalls.fdPath(t.fd());
                    if (SpecPaths.isAtOrBelow(destHost, srcPath)) {
                        throw new MountException(MountException.Reason.INVALID_INPUT, "Bind source "
                                + Quote.string(srcPath) + " contains its destination " + Quote.string(destHost));
                    }
                }
                long id = bindOnto(root, src, t, b.recursive(),
                        attributes(b.options().withReadOnly(b.readOnly()), false, false, false),
                        b.propagation());
                return new Mounted(b, t.path(), id);
            }
        }
    }

    private Mounted filesystem(Root root, MountSpec.Filesystem f, List<Root.Created> created) throws IOException {
        try (Target t = target(root, f.dest(), Target.Kind.DIRECTORY, created)) {
            Mounted m = freshFilesystem(root, f, t);
            List<WorkloadMasks.Entry> masks = sandboxing == null ? List.of() : switch (f.fsType()) {
                case PROC -> WorkloadMasks.PROC;
                case SYSFS -> WorkloadMasks.SYSFS;
                case TMPFS, DEVPTS, MQUEUE -> List.of();
            };
            if (!masks.isEmpty()) {
                try (Fd top = openat2(t.parent().get(), t.name(), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0, Root.NO_LINKS)) {
                    try {
                        WorkloadMasks.apply(features, top, masks, root.hostPath(t.path()));
                    } catch (IOException | RuntimeException e) {
                        detach(top, e);
                        throw e;
                    }
                }
            }
            return m;
        }
    }

    /** A fresh instance of {@code f}'s filesystem on {@code t}; a workload's sysfs is read-only whatever the options say. */
    private Mounted freshFilesystem(Root root, MountSpec.Filesystem f, Target t) throws IOException {
        MountOptions o = f.fsType() == MountSpec.FsType.SYSFS && sandboxing != null
                ? f.options().withReadOnly(true) : f.options();
        long attrs = switch (f.fsType()) {
            case PROC, SYSFS, MQUEUE -> attributes(o, true, true, true);
            case TMPFS -> attributes(o, true, true, false);
            case DEVPTS -> attributes(o, true, false, true);
        };
        List<String[]> params = new ArrayList<>();
        if (o.sizeBytes() != null) params.add(new String[] {"size", Long.toString(o.sizeBytes())});
        if (o.mode() != null) params.add(new String[] {"mode", "0" + Integer.toOctalString(o.mode())});
        if (f.fsType() == MountSpec.FsType.PROC) params.addAll(procParams);
        if (f.fsType() == MountSpec.FsType.DEVPTS) {
            params.add(new String[] {"ptmxmode", "0666"});
            params.add(new String[] {"mode", "0620"});
        }
        Propagation propagation = o.propagation() == null ? Propagation.PRIVATE : o.propagation();
        PidNamespace pidns = f.fsType() == MountSpec.FsType.PROC && sandboxing != null ? sandboxing.pidns() : null;
        if (pidns != null && !features.procPidns()) {
            return new Mounted(f, t.path(), procFromInside(root, t, pidns, propagation));
        }
        try {
            long id = freshOnto(root, f.fsType().word(), f.label(), params, pidns == null ? null : pidns.fd(), t, attrs,
                    propagation);
            return new Mounted(f, t.path(), id);
        } catch (ErrnoException e) {
            // Assumed but absent (probed where fsopen was not allowed): procfs rejects "pidns".
            if (pidns == null || !e.syscall().equals("fsconfig") || !e.is(Errno.EINVAL)) throw e;
            return new Mounted(f, t.path(), procFromInside(root, t, pidns, propagation));
        }
    }

    /**
     * A tmpfs with the six devices, the fd links, shm and pts. Where it may, it makes the device
     * nodes in its own tmpfs (a few microseconds each, where a bind of each costs a mount); else it
     * binds the host's, in a tmpfs that is nodev like every other.
     */
    private Mounted dev(Root root, MountSpec.Dev d, List<Root.Created> created) throws IOException {
        MountOptions o = d.options();
        boolean nodes = sandboxing != null && sandboxing.deviceNodes() && !o.nodev();
        long id;
        String path;
        try (Target t = target(root, d.dest(), Target.Kind.DIRECTORY, created)) {
            List<String[]> params = List.of(new String[] {"size", Long.toString(o.sizeBytes() == null ? 1 << 20 : o.sizeBytes())},
                    new String[] {"mode", "0" + Integer.toOctalString(o.mode() == null ? 0755 : o.mode())});
            id = freshOnto(root, "tmpfs", "tmpfs", params, null, t, attributes(o, true, !nodes, true),
                    o.propagation() == null ? Propagation.PRIVATE : o.propagation());
            path = t.path();
        }
        Mounted mounted = new Mounted(d, path, id);
        List<Root.Created> inside = new ArrayList<>(); // lives in the new tmpfs: goes with it
        try {
            try (Fd devDir = root.openInRoot(path, O_DIRECTORY | O_NOFOLLOW)) {
                for (DevNode node : DEV_NODES) {
                    if (nodes) {
                        try {
                            mknodat(devDir.get(), node.name(), S_IFCHR | 0666, node.major(), node.minor());
                            fchmodat(devDir.get(), node.name(), 0666); // past the umask
                            continue;
                        } catch (ErrnoException e) {
                            if (!e.is(Errno.EPERM)) throw e;
                            nodes = false; // root without CAP_MKNOD binds them; nor can anyone in the sandbox mknod here
                        }
                    }
                    try (Fd src = openat2(AT_FDCWD, "/dev/" + node.name(), O_PATH, 0, 0);
                         Target t = Target.resolve(root, path + "/" + node.name(), Target.Kind.FILE, true, inside)) {
                        bindOnto(root, src, t, false, 0, Propagation.PRIVATE);
                    }
                }
                for (String[] link : DEV_LINKS) symlinkat(link[1], devDir.get(), link[0]);
                mkdirat(devDir.get(), "shm", 01777);
                fchmodat(devDir.get(), "shm", 01777); // the umask took the write bits for group and others
                mkdirat(devDir.get(), "pts", 0755);
            }
            return mounted;
        } catch (IOException | RuntimeException e) {
            try {
                unmounter.unmount(root, mounted);
            } catch (IOException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        } finally {
            inside.forEach(Root.Created::close);
        }
    }

    /** Moves a provider's staged mount onto its destination, then removes the staging entry. */
    private Mounted provided(Root root, MountSpec.Provided p, List<Root.Created> created) throws IOException {
        if (stager == null) {
            throw new MountException(MountException.Reason.INVALID_INPUT, "Provider " + Quote.string(p.provider())
                    + " needs a staging place, and there is none here");
        }
        try (Staged s = stager.stage(p)) {
            try {
                Target.Kind kind = s.kind() == MountProvider.Kind.FILE ? Target.Kind.FILE : Target.Kind.DIRECTORY;
                // Whatever flags the provider chose, no set-uid programs and no device nodes get in this way. Set
                // while the mount is still in the staging place, where nobody else can swap it for another.
                if (features.mountApi()) {
                    try (Fd staged = openat2(s.dir().get(), s.name(), O_PATH | O_NOFOLLOW, 0, Root.NO_LINKS)) {
                        if (FileSyscalls.fstatx(staged, features.statxMountIdMask()).mountId() != s.mountId()) {
                            throw new MountException(MountException.Reason.SYSTEM, "The staged mount of "
                                    + Quote.string(p.provider()) + " is not where it was checked");
                        }
                        mountSetattr(staged.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0);
                    }
                }
                try (Target t = target(root, p.dest(), kind, created)) {
                    if (features.mountApi()) {
                        moveMount(s.dir().get(), s.name(), t.fd().get(), "", MOVE_MOUNT_T_EMPTY_PATH);
                    } else {
                        MountSyscalls.mount("/proc/thread-self/fd/" + s.dir().get() + "/" + s.name(), t.procPath(), null,
                                MS_MOVE, null);
                    }
                    try (Fd top = openat2(t.parent().get(), t.name(), O_PATH | O_NOFOLLOW, 0, Root.NO_LINKS)) {
                        if (FileSyscalls.fstatx(top, features.statxMountIdMask()).mountId() != s.mountId()) {
                            throw detachMoved(root, t);
                        }
                        try {
                            // Under a shared parent the moved mount joined its peer group; it must not stay there.
                            if (features.mountApi()) {
                                mountSetattr(top.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, 0, 0, MS_PRIVATE);
                            } else {
                                classicAttributes(root, top, s.mountId(), true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                                        Propagation.PRIVATE);
                            }
                            verifyOnTop(root, t, s.mountId());
                        } catch (IOException | RuntimeException e) {
                            detach(top, e);
                            throw e;
                        }
                    }
                    return new Mounted(p, t.path(), s.mountId());
                }
            } finally {
                s.remove();
            }
        }
    }

    private Mounted dir(Root root, MountSpec.Dir d, List<Root.Created> created) throws IOException {
        int mode = d.options().mode() == null ? 0755 : d.options().mode();
        try (Fd fd = root.mkdirAll(d.dest(), mode, created)) {
            return new Mounted(d, root.inRootPath(fd, d.dest()), 0);
        }
    }

    private Mounted symlink(Root root, MountSpec.Symlink s, List<Root.Created> created) throws IOException {
        Fd dir = root.mkdirAll(SpecPaths.parent(s.dest()), 0755, created);
        try (dir) {
            String name = SpecPaths.name(s.dest());
            try {
                symlinkat(s.target(), dir.get(), name);
            } catch (ErrnoException e) {
                if (!e.is(Errno.EEXIST)) throw e;
                String existing;
                try {
                    existing = readlinkat(dir.get(), name);
                } catch (ErrnoException notLink) {
                    throw Target.invalid(root, s.dest(), "exists and is not a symbolic link");
                }
                if (!existing.equals(s.target())) {
                    throw Target.invalid(root, s.dest(), "is a symbolic link to " + Quote.string(existing)
                            + ", not to " + Quote.string(s.target()));
                }
            }
            String parent = root.inRootPath(dir, s.dest());
            return new Mounted(s, (parent.equals("/") ? "" : parent) + "/" + name, 0);
        }
    }

    /** MOUNT_ATTR_* bits for the options, plus the secure defaults a fresh filesystem of this type gets. */
    private static long attributes(MountOptions o, boolean nosuid, boolean nodev, boolean noexec) {
        long a = 0;
        if (o.readOnly()) a |= MOUNT_ATTR_RDONLY;
        if (o.nosuid() || nosuid) a |= MOUNT_ATTR_NOSUID;
        if (o.nodev() || nodev) a |= MOUNT_ATTR_NODEV;
        if (o.noexec() || noexec) a |= MOUNT_ATTR_NOEXEC;
        return a;
    }

    /** A fresh filesystem onto {@code t}; returns the new mount's id. */
    private long freshOnto(Root root, String fsType, String label, List<String[]> params, Fd pidns, Target t,
                           long attrs, Propagation propagation) throws IOException {
        if (features.mountApi()) {
            try (Fd ctx = fsopen(fsType)) {
                fsconfigSetString(ctx, "source", label);
                for (String[] p : params) fsconfigSetString(ctx, p[0], p[1]);
                if (pidns != null) fsconfigSetFd(ctx, "pidns", pidns);
                fsconfigCreate(ctx);
                try (Fd m = fsmount(ctx, attrs)) {
                    return attach(root, m, t, false, propagation);
                }
            }
        }
        StringBuilder data = new StringBuilder();
        for (String[] p : params) data.append(data.isEmpty() ? "" : ",").append(p[0]).append('=').append(p[1]);
        // The attribute bits have the same values as MS_RDONLY, MS_NOSUID, MS_NODEV and MS_NOEXEC.
        MountSyscalls.mount(label, t.procPath(), fsType, attrs, data.isEmpty() ? null : data.toString());
        return afterClassicMount(root, t, false, 0, propagation);
    }

    /** The fallback for kernels without procfs "pidns": a process in the namespace mounts it, we verify. */
    private long procFromInside(Root root, Target t, PidNamespace pidns, Propagation propagation) throws IOException {
        pidns.mountProcFromInside(t.fd());
        long id = afterClassicMount(root, t, false, 0, propagation);
        try (Fd top = openat2(t.parent().get(), t.name(), O_PATH | O_NOFOLLOW, 0, Root.NO_LINKS)) {
            if (FileSyscalls.fstatfsType(top) != PROC_SUPER_MAGIC) {
                detach(top, null);
                throw new MountException(MountException.Reason.SYSTEM, "The mount made on "
                        + Quote.string(root.hostPath(t.path())) + " is not a procfs");
            }
        }
        return id;
    }

    /** A bind of the already-open {@code src} onto {@code t}; returns the new mount's id. */
    private long bindOnto(Root root, Fd src, Target t, boolean recursive, long attrs, Propagation propagation)
            throws IOException {
        int rec = recursive ? AT_RECURSIVE : 0;
        if (features.mountApi()) {
            try (Fd m = openTree(src.get(), "", OPEN_TREE_CLONE | AT_EMPTY_PATH | rec)) {
                if (!Root.stat(m).sameFile(Root.stat(src))) {
                    throw new MountException(MountException.Reason.SYSTEM, "Bind source changed while being cloned");
                }
                // Set before attaching: a read-only bind is never writable, not even for an instant.
                if (attrs != 0) mountSetattr(m.get(), "", AT_EMPTY_PATH | rec, attrs, 0, 0);
                return attach(root, m, t, recursive, propagation);
            }
        }
        MountSyscalls.mount("/proc/thread-self/fd/" + src.get(), t.procPath(), null,
                MS_BIND | (recursive ? MS_REC : 0), null);
        return afterClassicMount(root, t, recursive, attrs, propagation);
    }

    /** Moves the detached mount {@code m} onto {@code t}, sets its propagation, and checks it is on top. */
    private long attach(Root root, Fd m, Target t, boolean recursive, Propagation propagation) throws IOException {
        moveMount(m.get(), "", t.fd().get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        long id = FileSyscalls.fstatx(m, features.statxMountIdMask()).mountId();
        try {
            // Under a shared parent the new mount joined its peer group; it must not stay there.
            mountSetattr(m.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), 0, 0, propagation.msFlag);
            verifyOnTop(root, t, id);
            return id;
        } catch (IOException | RuntimeException e) {
            detach(m, e);
            throw e;
        }
    }

    /**
     * A mount went onto {@code t}'s descriptor, but its name in its parent is something else now
     * (renamed meanwhile): the mount sits on the directory wherever it went. umount2 of the
     * descriptor's /proc path takes off the topmost mount there, which is the one just made.
     */
    private static MountException detachMoved(Root root, Target t) {
        MountException e = new MountException(MountException.Reason.INVALID_INPUT, "Destination "
                + Quote.string(root.hostPath(t.path())) + " was renamed while it was being mounted on");
        try {
            MountSyscalls.umount2(t.procPath(), MNT_DETACH);
        } catch (ErrnoException undo) {
            e.addSuppressed(undo);
        }
        return e;
    }

    /** mount(2) put a mount on {@code t}: find it through the parent, then set flags and propagation. */
    private long afterClassicMount(Root root, Target t, boolean recursive, long attrs, Propagation propagation)
            throws IOException {
        long below = FileSyscalls.fstatx(t.fd(), features.statxMountIdMask()).mountId();
        try (Fd top = openat2(t.parent().get(), t.name(), O_PATH | O_NOFOLLOW, 0, Root.NO_LINKS)) {
            long id = FileSyscalls.fstatx(top, features.statxMountIdMask()).mountId();
            if (id == below) throw detachMoved(root, t);
            try {
                classicAttributes(root, top, id, recursive, attrs, propagation);
                verifyOnTop(root, t, id);
                return id;
            } catch (IOException | RuntimeException e) {
                detach(top, e);
                throw e;
            }
        }
    }

    /**
     * What mount_setattr does, with mount(2): adds {@code attrs} to mount {@code id} (open as
     * {@code top}) and, if {@code recursive}, to every mount on it, then sets the propagation. The
     * kernel ignores MS_RDONLY on the first bind call, so flags need a remount of each mount; and a
     * remount sets exactly the flags it is given, so each keeps those it has (a read-only one stays so).
     */
    private void classicAttributes(Root root, Fd top, long id, boolean recursive, long attrs, Propagation propagation)
            throws IOException {
        String self = "/proc/thread-self/fd/" + top.get();
        if (attrs != 0) {
            List<MountEntry> mounts = MountTable.subtree(MountTable.of(features).read(), id);
            if (mounts.isEmpty()) {
                throw new MountException(MountException.Reason.SYSTEM, "Mount " + id + " is not in the mount table");
            }
            // The attribute bits have the same values as MS_RDONLY, MS_NOSUID, MS_NODEV and MS_NOEXEC.
            for (MountEntry e : mounts) {
                if (e.id() == id) {
                    MountSyscalls.mount(null, self, null, MS_REMOUNT | MS_BIND | e.attributes() | attrs, null);
                } else if (recursive) {
                    remountSubmount(root, e, e.attributes() | attrs);
                }
            }
        }
        MountSyscalls.mount(null, self, null, propagation.msFlag | (recursive ? MS_REC : 0), null);
    }

    private void remountSubmount(Root root, MountEntry e, long attrs) throws IOException {
        String inRoot = root.inRootPath(e.mountPoint());
        if (inRoot == null) return;
        try (Fd sub = root.openInRoot(inRoot, 0)) {
            if (FileSyscalls.fstatx(sub, features.statxMountIdMask()).mountId() != e.id()) return;
            MountSyscalls.mount(null, "/proc/thread-self/fd/" + sub.get(), null, MS_REMOUNT | MS_BIND | attrs, null);
        }
    }

    private void verifyOnTop(Root root, Target t, long id) throws IOException {
        long onTop = statx(t.parent().get(), t.name(), AT_SYMLINK_NOFOLLOW, features.statxMountIdMask()).mountId();
        if (onTop != id) {
            throw new MountException(MountException.Reason.SYSTEM, "The mount on " + Quote.string(root.hostPath(t.path()))
                    + " is mount " + onTop + ", not the one just made (" + id + ")");
        }
    }

    /**
     * Undoes an attached mount through an fd on its root: that names exactly our mount, wherever
     * it is now, even if its path was swapped meanwhile. The fd pins it, so only MNT_DETACH works.
     */
    private static void detach(Fd mountRoot, Exception failure) {
        try {
            MountSyscalls.umount2("/proc/thread-self/fd/" + mountRoot.get(), MNT_DETACH);
        } catch (ErrnoException undo) {
            if (failure != null) failure.addSuppressed(undo);
        }
    }
}
