package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ApiException.badRequest;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.InvalidSpecException;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.SpecPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a request's spec strings into planned targets: parsed, allowed by the policy, and resolved
 * beneath the directory the policy grants (symlinks cannot lead out of it), so two spellings of
 * one place are one target.
 */
final class Targets {
    private Targets() {}

    /**
     * One spec of a request. {@code spec}'s destination is {@code path}, inside {@code base};
     * {@code target} is the host path; {@code canonical} is the spec with the host path, which is
     * what two acquires of one target must agree on.
     */
    record Planned(MountSpec spec, Policy.Grant grant, String base, String path, String target, String canonical,
                   long belowId) {}

    static List<Planned> plan(Peer peer, List<String> specs, Policy policy, KernelFeatures features,
                              boolean mustExist) throws ApiException {
        if (specs.isEmpty()) throw badRequest("No mount specs given");
        List<Planned> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String text : specs) {
            Planned p = plan(peer, text, policy, features, mustExist);
            if (!seen.add(p.target())) throw badRequest("Mount spec " + Quote.string(text) + ": target "
                    + Quote.string(p.target()) + " appears twice in one request");
            out.add(p);
        }
        return out;
    }

    static Planned plan(Peer peer, String text, Policy policy, KernelFeatures features, boolean mustExist)
            throws ApiException {
        MountSpec spec;
        try {
            spec = MountSpecs.parse(text);
        } catch (InvalidSpecException e) {
            throw badRequest(e.getMessage());
        }
        if (!Policy.MOUNT_TYPES.contains(spec.type()) && !(spec instanceof MountSpec.Provided)) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": type \"" + spec.type()
                    + "\" makes no mount, and the daemon counts references to mounts only");
        }
        if (spec.options().optional()) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": option \"try\" is for sandboxes; a shared"
                    + " mount either is there or fails");
        }
        Policy.Grant grant = policy.authorize(peer, spec);
        String base = grant.base();
        String inBase = base.equals("/") ? spec.dest() : spec.dest().substring(base.length());
        if (inBase.equals("/")) throw badRequest("Invalid mount spec " + Quote.string(text) + ": cannot mount on /");
        String path = inBase;
        long below = 0;
        try (Root root = Root.open(base)) {
            // The parent is resolved (inside the base); the last component is left to the mount
            // core, which refuses a symlink where a file bind goes.
            String parent = SpecPaths.parent(inBase), name = SpecPaths.name(inBase);
            try (Fd dir = root.openInRoot(parent, FileSyscalls.O_DIRECTORY)) {
                String p = root.inRootPath(dir, parent);
                path = (p.equals("/") ? "" : p) + "/" + name;
                below = FileSyscalls.statx(dir.get(), name, FileSyscalls.AT_SYMLINK_NOFOLLOW,
                        features.statxMountIdMask()).mountId();
            } catch (ErrnoException e) {
                if (mustExist || !e.is(Errno.ENOENT)) {
                    throw badRequest("Invalid mount spec " + Quote.string(text) + ": target " + Quote.string(spec.dest())
                            + (e.is(Errno.ENOENT) ? " does not exist" : " cannot be opened: " + e.getMessage()));
                }
            }
            String target = root.hostPath(path);
            if (spec instanceof MountSpec.Bind b && mustExist) checkSource(text, b.source(), grant, target);
            // A provider's source: paths joined by '+' (overlay's lowers); the provider opens them itself.
            if (spec instanceof MountSpec.Provided p && mustExist && grant.sources() != null) {
                for (String part : p.source().split("\\+")) checkSource(text, part, grant, target);
            }
            MountSpec inRoot = spec.withDest(path);
            return new Planned(inRoot, grant, root.path(), path, target, MountSpecs.format(spec.withDest(target)), below);
        } catch (IOException e) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": " + e.getMessage());
        }
    }

    /** The early check of a bind source; the mount itself checks the descriptor it opens again. */
    private static void checkSource(String text, String source, Policy.Grant grant, String target) throws ApiException {
        String real;
        try {
            real = Path.of(source).toRealPath().toString();
        } catch (IOException | RuntimeException e) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": source " + Quote.string(source)
                    + " does not exist");
        }
        if (!grant.sourceAllowed(real)) {
            throw ApiException.forbidden("The policy does not allow the source " + Quote.string(real) + " (from spec "
                    + Quote.string(text) + ")");
        }
        if (SpecPaths.isAtOrBelow(target, real)) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": bind source " + Quote.string(real)
                    + " contains its target " + Quote.string(target));
        }
    }

    /** Opens a bind source for the mount, refusing one that now leads outside the grant. */
    static Fd openSource(String source, Policy.Grant grant) throws IOException {
        Fd fd = FileSyscalls.openat2(FileSyscalls.AT_FDCWD, source, FileSyscalls.O_PATH, 0, 0);
        String real = FileSyscalls.fdPath(fd);
        if (!grant.sourceAllowed(real)) {
            fd.close();
            throw new dev.mountkeeper.mount.MountException(dev.mountkeeper.mount.MountException.Reason.INVALID_INPUT,
                    "Bind source " + Quote.string(source) + " now resolves to " + Quote.string(real)
                            + ", which the policy does not allow");
        }
        return fd;
    }

}
