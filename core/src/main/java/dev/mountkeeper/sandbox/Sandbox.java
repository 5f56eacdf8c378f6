package dev.mountkeeper.sandbox;

import dev.mountkeeper.mount.MountOptions;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpec.BindType;
import dev.mountkeeper.mount.MountSpec.FsType;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Propagation;
import dev.mountkeeper.mount.SpecPaths;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable description of a sandbox: a root, the setup steps applied in it in order, and the
 * command with its exact environment. Built with {@link #builder()}, run with {@link SandboxRunner}.
 *
 * @param root      a host directory to pivot into, or null for a fresh tmpfs root
 * @param rootBeneath  null, or a relative path: the root is then this path inside {@code root}, found
 *                  without ever leaving {@code root} (no "..", no symlink out), like openat2's RESOLVE_BENEATH
 * @param command   argv; argv[0] without a slash is looked up in the command's own PATH inside the root
 * @param lookup    what that lookup searches when PATH is unset or empty
 * @param env       the command's whole environment, nothing added
 * @param chdir     working directory inside the root
 * @param hostname  the UTS namespace's hostname, or null to keep the host's name
 * @param timeout   kill the whole process tree after this long, or null for no limit
 * @param keepCapabilities  let a command run as root keep its capabilities (by default it has none)
 * @param newSession  start the command in a session of its own (setsid), so that it has no
 *                  controlling terminal and cannot push input into the caller's (TIOCSTI); the default
 * @param dropCapabilities  with keepCapabilities, the capabilities (bits by number) the command
 *                  still loses from its bounding and inheritable sets
 * @param onStart   null, or told the pid (in the caller's pid namespace) of the sandbox's PID 1 once the command runs, before
 *                  the wait: what bubblewrap's --info-fd reports
 */
public record Sandbox(String root, String rootBeneath, List<Op> ops, List<String> command, Lookup lookup,
                      Map<String, String> env, String chdir,
                      Namespaces namespaces, String hostname, Duration timeout, Stdio stdio,
                      boolean keepCapabilities, long dropCapabilities, boolean newSession, java.util.function.IntConsumer onStart) {
    /** Namespaces beyond the mount and pid namespaces every sandbox has. */
    public record Namespaces(boolean net, boolean ipc, boolean uts) {
        public static final Namespaces DEFAULT = new Namespaces(false, true, true);
    }

    /**
     * How argv[0] without a slash is found. Either way the command is executed by the path as its
     * PATH entry spells it (relative entries stay relative, resolved in the working directory), so
     * that a "#!" script's $0 is what a shell would give it, never a host path.
     */
    public enum Lookup {
        /** As a shell: PATH, or /usr/local/bin:/usr/bin:/bin when it is unset. */
        SHELL,
        /** Only the entries of the command's PATH: none when it is unset or empty (as Buildbarn's bb_runner). */
        PATH_ONLY
    }

    public Sandbox {
        ops = List.copyOf(ops);
        Objects.requireNonNull(lookup);
        command = List.copyOf(command);
        env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
        if (command.isEmpty()) throw new IllegalArgumentException("no command to run");
        for (String a : command) {
            if (a.indexOf('\0') >= 0) throw new IllegalArgumentException("argument " + a + " contains a NUL byte");
        }
        if (command.getFirst().isEmpty()) throw new IllegalArgumentException("the command name is empty");
        env.forEach((k, v) -> {
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("environment variable " + k + " is not a valid name=value pair");
            }
        });
        chdir = SpecPaths.absolute("working directory", chdir);
        if (root != null && root.isEmpty()) throw new IllegalArgumentException("the root directory is empty");
        if (rootBeneath != null && (root == null || java.util.Arrays.stream(rootBeneath.split("/", -1))
                .anyMatch(c -> c.isEmpty() || c.equals(".") || c.equals("..") || c.indexOf('\0') >= 0))) {
            throw new IllegalArgumentException("root " + rootBeneath + " must be a plain relative path (no \"..\", \".\" or"
                    + " empty parts) below a root directory");
        }
        if (hostname != null && (hostname.isEmpty() || hostname.length() > 64 || hostname.indexOf('\0') >= 0)) {
            throw new IllegalArgumentException("hostname " + hostname + " is not 1 to 64 characters");
        }
        if (hostname != null && !namespaces.uts()) throw new IllegalArgumentException("--hostname needs a UTS namespace");
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout " + timeout + " is not positive");
        }
        Objects.requireNonNull(namespaces);
        Objects.requireNonNull(stdio);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a Sandbox step by step; option names follow bubblewrap's. */
    public static final class Builder {
        private String root;
        private String rootBeneath;
        private final List<Op> ops = new ArrayList<>();
        private List<String> command = List.of();
        private Lookup lookup = Lookup.SHELL;
        private final Map<String, String> env = new LinkedHashMap<>(System.getenv());
        private String chdir = "/";
        private boolean net, ipc = true, uts = true;
        private String hostname;
        private Duration timeout;
        private Stdio stdio = Stdio.INHERIT;
        private boolean keepCapabilities;
        private boolean newSession = true;
        private long dropCapabilities;
        private java.util.function.IntConsumer onStart;

        public Builder root(String hostDir) { root = hostDir; rootBeneath = null; return this; }

        /** The root is {@code relative} inside {@code hostDir}, resolved without ever leaving {@code hostDir}. */
        public Builder root(String hostDir, String relative) { root = hostDir; rootBeneath = relative; return this; }

        /** A recursive bind without devices, like bubblewrap's --bind. */
        public Builder bind(String src, String dest) { return bind(src, dest, false, false, false); }

        public Builder roBind(String src, String dest) { return bind(src, dest, true, false, false); }

        public Builder bindTry(String src, String dest) { return bind(src, dest, false, true, false); }

        public Builder roBindTry(String src, String dest) { return bind(src, dest, true, true, false); }

        /** A recursive bind that keeps device nodes usable. */
        public Builder devBind(String src, String dest) { return bind(src, dest, false, false, true); }

        private Builder bind(String src, String dest, boolean ro, boolean optional, boolean devices) {
            MountOptions o = new MountOptions(ro, false, !devices, false, Propagation.PRIVATE, true, optional, null, null);
            return mount(new MountSpec.Bind(ro ? BindType.RO_BIND : BindType.BIND, src, dest, o));
        }

        /** Detaches the mount at {@code dest} in the sandbox (see {@link Op.Unmount}). */
        public Builder unmount(String dest) { ops.add(new Op.Unmount(dest)); return this; }

        /** A fresh procfs showing only the sandbox's own processes. */
        public Builder proc(String dest) { return fs(FsType.PROC, dest, MountOptions.NONE); }

        /** A fresh, read-only sysfs. */
        public Builder sys(String dest) {
            return fs(FsType.SYSFS, dest, new MountOptions(true, false, false, false, null, false, false, null, null));
        }

        /** A minimal /dev: null, zero, full, random, urandom, tty, pts, shm and the fd links. */
        public Builder dev(String dest) { return mount(new MountSpec.Dev(dest, MountOptions.NONE)); }

        public Builder tmpfs(String dest) { return tmpfs(dest, null, null); }

        public Builder tmpfs(String dest, Long sizeBytes, Integer mode) {
            return fs(FsType.TMPFS, dest, new MountOptions(false, false, false, false, null, false, false, sizeBytes, mode));
        }

        private Builder fs(FsType type, String dest, MountOptions o) {
            return mount(new MountSpec.Filesystem(type, "", dest, o));
        }

        public Builder dir(String dest) { return dir(dest, null); }

        public Builder dir(String dest, Integer mode) {
            return mount(new MountSpec.Dir(dest, new MountOptions(false, false, false, false, null, false, false, null, mode)));
        }

        public Builder symlink(String target, String dest) { return mount(new MountSpec.Symlink(target, dest)); }

        public Builder file(String dest, byte[] data) { ops.add(new Op.WriteFile(dest, data, 0644)); return this; }

        public Builder file(String dest, String text) { return file(dest, text.getBytes(StandardCharsets.UTF_8)); }

        /** A step in the spec language, TYPE:SOURCE:DEST[:OPTIONS]. */
        public Builder mount(String spec) { return mount(MountSpecs.parse(spec)); }

        public Builder mount(MountSpec spec) { ops.add(new Op.Mount(spec)); return this; }

        public Builder command(String... argv) { return command(List.of(argv)); }

        public Builder command(List<String> argv) { command = List.copyOf(argv); return this; }

        public Builder lookup(Lookup l) { lookup = l; return this; }

        public Builder clearEnv() { env.clear(); return this; }

        public Builder setEnv(String name, String value) { env.put(name, value); return this; }

        public Builder unsetEnv(String name) { env.remove(name); return this; }

        public boolean hasEnv(String name) { return env.containsKey(name); }

        /** Replaces the whole environment. */
        public Builder env(Map<String, String> all) { env.clear(); env.putAll(all); return this; }

        public Builder chdir(String dir) { chdir = dir; return this; }

        public Builder unshareNet(boolean on) { net = on; return this; }

        public Builder unshareIpc(boolean on) { ipc = on; return this; }

        public Builder unshareUts(boolean on) { uts = on; return this; }

        public Builder hostname(String name) { hostname = name; return this; }

        public Builder timeout(Duration d) { timeout = d; return this; }

        public Builder stdio(Stdio s) { stdio = s; return this; }

        public Builder keepCapabilities(boolean keep) { keepCapabilities = keep; return this; }

        /** Off: the command shares the caller's session and terminal (and can inject input into it). */
        public Builder newSession(boolean on) { newSession = on; return this; }

        /** With {@link #keepCapabilities}, these (bits by number) go from the command's bounding and inheritable sets. */
        public Builder dropCapabilities(long mask) { dropCapabilities = mask; return this; }

        /** Told the command's pid once it runs (see {@link Sandbox#onStart()}). */
        public Builder onStart(java.util.function.IntConsumer listener) { onStart = listener; return this; }

        public Sandbox build() {
            return new Sandbox(root, rootBeneath, ops, command, lookup, env, chdir, new Namespaces(net, ipc, uts), hostname, timeout, stdio,
                    keepCapabilities, dropCapabilities, newSession, onStart);
        }
    }
}
