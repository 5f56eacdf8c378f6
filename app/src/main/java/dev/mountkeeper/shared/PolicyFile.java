package dev.mountkeeper.shared;

import dev.mountkeeper.linux.Quote;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The policy in force, and the file it was read from. {@link #reload()} (on SIGHUP) swaps in the
 * file's new contents for the requests that start after it, or keeps the old policy when the new
 * one does not load; a request reads the policy once and keeps that one throughout.
 */
public final class PolicyFile {
    private static final System.Logger LOG = System.getLogger("mountkeeper.daemon");
    private final Path file;
    private volatile Policy current;

    private PolicyFile(Path file, Policy current) {
        this.file = file;
        this.current = current;
    }

    /** A policy that never changes (root only, or one built in a test). */
    public static PolicyFile fixed(Policy p) {
        return new PolicyFile(null, p);
    }

    /** Root only without a file; else the file's policy, or the reason it does not load. */
    public static PolicyFile load(Path file) throws IOException {
        return file == null ? fixed(Policy.rootOnly()) : new PolicyFile(file, Policy.load(file));
    }

    public Policy current() {
        return current;
    }

    /** Reads the file again; logs one line either way. False when the old policy stays. */
    public synchronized boolean reload() {
        if (file == null) {
            LOG.log(System.Logger.Level.WARNING, "SIGHUP: no --policy file to reload; only root may mount, as before");
            return false;
        }
        try {
            current = Policy.load(file);
            LOG.log(System.Logger.Level.INFO, "Reloaded the policy from " + Quote.string(file.toString()));
            return true;
        } catch (IOException | RuntimeException e) {
            String why = String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " ");
            LOG.log(System.Logger.Level.WARNING, "Kept the old policy: " + (why.contains(file.toString()) ? why
                    : "Failed to read the policy " + Quote.string(file.toString()) + ": " + why));
            return false;
        }
    }
}
