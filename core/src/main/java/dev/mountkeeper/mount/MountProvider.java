package dev.mountkeeper.mount;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Something other than mountkeeper that makes a mount: an overlay, a disk image, a FUSE
 * filesystem, a network share. A provider is a spec type: {@code NAME:SOURCE:DEST[:OPTIONS]}.
 * It mounts at a staging place mountkeeper gives it, in a private mount namespace (a sandbox's
 * own, before its root exists) or a private staging tmpfs (the daemon's); mountkeeper then moves
 * the mount onto DEST and removes the staging entry.
 *
 * <p>Java providers are found with {@link java.util.ServiceLoader} (this interface, or a
 * {@link Catalog} of several); executable plugins in any language are a catalog of their own
 * (see docs/plugins.md).
 */
public interface MountProvider {
    /** The spec type this provider answers to: lowercase letters, digits and '-'. */
    String name();

    /**
     * Creates {@code request.staging()} (it does not exist yet) as a file or a directory, mounts
     * on it, and says which it made; nothing else. On failure it throws, and mountkeeper removes
     * whatever is left at the staging place.
     */
    Kind mount(Request request) throws IOException;

    /** What the provider made at the staging place. */
    enum Kind { FILE, DIRECTORY, UNSAID }

    /**
     * @param staging an absolute path that does not exist yet, in a directory only mountkeeper and
     *                the provider use
     * @param options the spec's fourth field split on ',' (passed through: the provider defines them)
     * @param timeout how long the provider may take
     */
    record Request(String source, String dest, List<String> options, String staging, Duration timeout) {}

    /** Several providers from one place (the built-ins, the executables in a plugin directory). */
    interface Catalog {
        List<MountProvider> providers();
    }
}
