package dev.mountkeeper.sandbox;

import java.io.File;
import java.util.List;
import java.util.Optional;

/** The host's programs a sandbox relies on (cat, mount, unshare), where Debian and others keep them. */
public final class HostPrograms {
    private HostPrograms() {}

    public static final List<String> CAT = List.of("/usr/bin/cat", "/bin/cat");
    public static final List<String> MOUNT = List.of("/usr/bin/mount", "/bin/mount");
    public static final List<String> UNSHARE = List.of("/usr/bin/unshare", "/bin/unshare");

    /** The first of {@code candidates} that is executable here. */
    public static Optional<String> find(List<String> candidates) {
        return candidates.stream().filter(p -> new File(p).canExecute()).findFirst();
    }
}
