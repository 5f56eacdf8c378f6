package dev.mountkeeper.mount;

import java.util.List;

/**
 * One typed mount operation, parsed from {@code TYPE:SOURCE:DEST[:OPTIONS]} by {@link MountSpecs}.
 * Every record validates itself when built, so an invalid spec cannot exist; {@code dest} is
 * always absolute and normalised, relative to the root the spec is applied in.
 */
public sealed interface MountSpec
        permits MountSpec.Bind, MountSpec.Filesystem, MountSpec.Dev, MountSpec.Dir, MountSpec.Symlink, MountSpec.Provided {

    /** The spec's first field. */
    String type();

    /** The second field, "" where the type takes none. */
    String source();

    String dest();

    MountOptions options();

    /** The same spec with another destination. */
    MountSpec withDest(String dest);

    /** Binds of a host path; Isar's bind, rbind and pbind, plus ro-bind. */
    enum BindType {
        BIND("bind"), RBIND("rbind"), PBIND("pbind"), RO_BIND("ro-bind");

        final String word;

        BindType(String word) { this.word = word; }
    }

    record Bind(BindType bindType, String source, String dest, MountOptions options) implements MountSpec {
        public Bind {
            source = SpecPaths.absolute("source", source);
            dest = SpecPaths.absolute("destination", dest);
            options.allowOnly(bindType.word, true, true, false, false);
        }

        @Override public String type() { return bindType.word; }

        @Override public Bind withDest(String d) { return new Bind(bindType, source, d, options); }

        public boolean recursive() { return bindType == BindType.RBIND || options.recursive(); }

        public boolean readOnly() { return bindType == BindType.RO_BIND || options.readOnly(); }

        /** Private unless asked; rbind makes the copy a slave so host mount events still arrive (as Isar did). */
        public Propagation propagation() {
            if (options.propagation() != null) return options.propagation();
            return bindType == BindType.RBIND ? Propagation.SLAVE : Propagation.PRIVATE;
        }
    }

    /** Filesystems made fresh by the kernel. */
    enum FsType {
        PROC("proc"), SYSFS("sysfs"), TMPFS("tmpfs"), DEVPTS("devpts"), MQUEUE("mqueue");

        final String word;

        FsType(String word) { this.word = word; }

        public String word() { return word; }
    }

    /** A fresh filesystem instance; {@code source} is only the label the mount table shows ("" for the type name). */
    record Filesystem(FsType fsType, String source, String dest, MountOptions options) implements MountSpec {
        public Filesystem {
            if (source.indexOf('\0') >= 0 || source.length() >= SpecPaths.PATH_MAX) {
                throw new IllegalArgumentException("source label is not a valid string");
            }
            dest = SpecPaths.absolute("destination", dest);
            options.allowOnly(fsType.word, true, false, fsType == FsType.TMPFS, fsType == FsType.TMPFS);
        }

        @Override public String type() { return fsType.word; }

        @Override public Filesystem withDest(String d) { return new Filesystem(fsType, source, d, options); }

        public String label() { return source.isEmpty() ? fsType.word : source; }
    }

    /** A minimal /dev: a tmpfs with null, zero, full, random, urandom, tty and the fd links. */
    record Dev(String dest, MountOptions options) implements MountSpec {
        public Dev {
            dest = SpecPaths.absolute("destination", dest);
            options.allowOnly("dev", true, false, true, true);
        }

        @Override public String type() { return "dev"; }

        @Override public Dev withDest(String d) { return new Dev(d, options); }

        @Override public String source() { return ""; }
    }

    /** A directory (and its parents) inside the root; no mount. */
    record Dir(String dest, MountOptions options) implements MountSpec {
        public Dir {
            dest = SpecPaths.absolute("destination", dest);
            options.allowOnly("dir", false, false, false, true);
        }

        @Override public String type() { return "dir"; }

        @Override public Dir withDest(String d) { return new Dir(d, options); }

        @Override public String source() { return ""; }
    }

    /** A symbolic link at {@code dest} pointing to {@code target} (which may be relative); no mount. */
    record Symlink(String target, String dest) implements MountSpec {
        public Symlink {
            target = SpecPaths.linkTarget("symlink target", target);
            dest = SpecPaths.absolute("destination", dest);
        }

        @Override public String type() { return "symlink"; }

        @Override public Symlink withDest(String d) { return new Symlink(target, d); }

        @Override public String source() { return target; }

        @Override public MountOptions options() { return MountOptions.NONE; }
    }

    /**
     * A mount a {@link MountProvider} makes: {@code provider} is the spec's type, {@code source} and
     * the options are the provider's to interpret (passed through as written).
     */
    record Provided(String provider, String source, String dest, List<String> providerOptions) implements MountSpec {
        public Provided {
            if (source.indexOf('\0') >= 0 || source.length() >= SpecPaths.PATH_MAX) {
                throw new IllegalArgumentException("source is not a valid string");
            }
            dest = SpecPaths.absolute("destination", dest);
            providerOptions = List.copyOf(providerOptions);
            for (String o : providerOptions) {
                if (o.isEmpty() || o.indexOf('\0') >= 0) throw new IllegalArgumentException("an option is empty or has a NUL byte");
            }
        }

        @Override public String type() { return provider; }

        @Override public Provided withDest(String d) { return new Provided(provider, source, d, providerOptions); }

        @Override public MountOptions options() { return MountOptions.NONE; }
    }
}
