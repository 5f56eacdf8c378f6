package dev.mountkeeper.shared;

import static dev.mountkeeper.shared.ApiException.badRequest;

import dev.mountkeeper.linux.ErrnoException;
import dev.mountkeeper.linux.Errno;
import dev.mountkeeper.linux.Fd;
import dev.mountkeeper.linux.FileSyscalls;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.InvalidSpecException;
import dev.mountkeeper.mount.KernelFeatures;
import dev.mountkeeper.mount.MountOptions;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.MountSpecs;
import dev.mountkeeper.mount.Root;
import dev.mountkeeper.mount.SpecPaths;
import java.io.IOException;
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
     * what two acquires of one target must agree on. {@code refused} says why the client may not
     * make a fresh mount there (null: it may); joining a mount it made already needs no new check.
     */
    record Planned(MountSpec spec, Policy.Grant grant, String base, String path, String target, String canonical,
                   long belowId, String refused) {}

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

    /** What the client's own resolution of a target found. */
    private record Resolved(String root, String path, long below, String refused) {}

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
        spec = restricted(spec, grant);
        String base = grant.base();
        String inBase = base.equals("/") ? spec.dest() : spec.dest().substring(base.length());
        if (inBase.equals("/")) throw badRequest("Invalid mount spec " + Quote.string(text) + ": cannot mount on /");
        Resolved r;
        try {
            r = resolve(peer, base, inBase, features, mustExist);
        } catch (ErrnoException e) {
            if (e.is(Errno.EACCES)) {
                throw ApiException.forbidden("Target " + Quote.string(spec.dest()) + " is out of reach of uid " + peer.uid()
                        + " (from spec " + Quote.string(text) + ")");
            }
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": target " + Quote.string(spec.dest())
                    + (e.is(Errno.ENOENT) ? " does not exist" : " cannot be opened: " + e.getMessage()));
        } catch (IOException e) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": " + e.getMessage());
        }
        String target = r.root().equals("/") ? r.path() : r.root() + r.path();
        if (spec instanceof MountSpec.Bind b && mustExist) checkSource(peer, text, b.source(), grant, target, false);
        // A provider's source: paths joined by '+' (overlay's lowers), each opened as the client would.
        if (spec instanceof MountSpec.Provided p && mustExist && grant.sources() != null) {
            for (String part : p.source().split("\\+")) checkSource(peer, text, part, grant, target, true);
        }
        return new Planned(spec.withDest(r.path()), grant, r.root(), r.path(), target,
                MountSpecs.format(spec.withDest(target)), r.below(), r.refused() == null ? null
                : "Target " + Quote.string(target) + " " + r.refused() + ": the daemon mounts only where its client may write");
    }

    /**
     * Resolves the target's parent beneath the base with the client's credentials (every
     * directory on the way must be searchable for it), and asks whether it may mount on the
     * target. The last component is left to the mount core, which refuses a symlink where a file
     * bind goes and checks the descriptor it mounts on again.
     */
    private static Resolved resolve(Peer peer, String base, String inBase, KernelFeatures features, boolean mustExist)
            throws IOException {
        return AsUser.call(peer, () -> {
            try (Root root = Root.open(base)) {
                String parent = SpecPaths.parent(inBase), name = SpecPaths.name(inBase);
                try (Fd dir = root.openInRoot(parent, FileSyscalls.O_DIRECTORY)) {
                    String p = root.inRootPath(dir, parent), path = (p.equals("/") ? "" : p) + "/" + name;
                    long below = FileSyscalls.statx(dir.get(), name, FileSyscalls.AT_SYMLINK_NOFOLLOW,
                            features.statxMountIdMask()).mountId();
                    if (!mustExist) return new Resolved(root.path(), path, below, null);
                    try (Fd top = root.openInRoot(path, 0)) {
                        return new Resolved(root.path(), path, below, Rights.refusal(peer, top));
                    }
                } catch (ErrnoException e) {
                    if (mustExist || !(e.is(Errno.ENOENT) || e.is(Errno.EACCES))) throw e;
                    return new Resolved(root.path(), inBase, 0, null); // a release names what it holds: nothing to check
                }
            }
        });
    }

    /**
     * The spec as the daemon mounts it for this client: a bind gets nosuid and nodev unless the
     * grant says "suid" or "dev" (root's grant says everything).
     */
    private static MountSpec restricted(MountSpec spec, Policy.Grant grant) {
        if (!(spec instanceof MountSpec.Bind b)) return spec;
        MountOptions o = b.options();
        return new MountSpec.Bind(b.bindType(), b.source(), b.dest(), new MountOptions(o.readOnly(),
                o.nosuid() || !grant.grants("suid"), o.nodev() || !grant.grants("dev"), o.noexec(), o.propagation(),
                o.recursive(), o.optional(), o.sizeBytes(), o.mode()));
    }

    /** The early check of a source, opened as the client would; the mount opens and checks it again. */
    private static void checkSource(Peer peer, String text, String source, Policy.Grant grant, String target, boolean read)
            throws ApiException {
        String real;
        try (Fd fd = Rights.openSource(peer, source, grant, read)) {
            real = FileSyscalls.fdPath(fd);
        } catch (Rights.Refused e) {
            throw ApiException.forbidden(e.getMessage() + " (from spec " + Quote.string(text) + ")");
        } catch (IOException e) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": " + e.getMessage());
        }
        if (SpecPaths.isAtOrBelow(target, real)) {
            throw badRequest("Invalid mount spec " + Quote.string(text) + ": bind source " + Quote.string(real)
                    + " contains its target " + Quote.string(target));
        }
    }
}
