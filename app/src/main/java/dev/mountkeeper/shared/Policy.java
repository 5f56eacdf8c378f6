package dev.mountkeeper.shared;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.mountkeeper.linux.Quote;
import dev.mountkeeper.mount.MountSpec;
import dev.mountkeeper.mount.SpecPaths;
import dev.mountkeeper.shared.proto.ContextConfig;
import dev.mountkeeper.shared.proto.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who may mount what where. root may do anything; everyone else needs a rule naming them (by user
 * or group) whose target prefixes hold the target strictly inside, whose types include the spec's
 * type (providers only when named), whose options include every option of the spec, and, for
 * binds and providers, whose sources hold the source once resolved.
 */
public final class Policy {
    /** Mount types a daemon handles; dir and symlink make no mount, so there is nothing to count. */
    static final Set<String> MOUNT_TYPES = Set.of("bind", "rbind", "pbind", "ro-bind", "proc", "sysfs", "tmpfs",
            "devpts", "mqueue", "dev");

    /**
     * Options every rule allows: they only take away (flags, a private or slave copy, a size or
     * mode for a fresh tmpfs) or, for "recursive", show a source's submounts as the client sees
     * them there. Anything else needs a rule that names it.
     */
    static final Set<String> DEFAULT_OPTIONS = Set.of("ro", "nosuid", "nodev", "noexec", "private", "slave",
            "recursive", "size", "mode");
    /**
     * Options a rule may grant beyond those. "shared" joins a mount to the peer group of its source
     * (mount events then travel both ways); "suid" and "dev" are the policy's own words: binds keep
     * set-uid programs and device files working, which the daemon otherwise turns off (nosuid,nodev).
     */
    static final Set<String> GRANTABLE = Set.of("shared", "suid", "dev");

    private record CompiledRule(Set<Integer> uids, Set<Integer> gids, List<String> targets, List<String> sources,
                                Set<String> types, Set<String> options) {}

    /**
     * What a rule grants for one spec: the directory its target is resolved beneath, the allowed
     * sources and the options granted beyond the defaults (both null for root: anything).
     */
    public record Grant(String base, List<String> sources, Set<String> options) {
        boolean sourceAllowed(String resolved) {
            return sources == null || sources.stream().anyMatch(s -> SpecPaths.isAtOrBelow(resolved, s));
        }

        /** Whether a bind may keep set-uid programs ("suid") or device files ("dev") working. */
        boolean grants(String option) {
            return options == null || options.contains(option);
        }
    }

    private final List<CompiledRule> rules;
    private final Map<String, ContextConfig> contexts;
    private final Limits limits;

    private Policy(List<CompiledRule> rules, Map<String, ContextConfig> contexts, Limits limits) {
        this.rules = rules;
        this.contexts = contexts;
        this.limits = limits;
    }

    /** Only root. */
    public static Policy rootOnly() {
        return new Policy(List.of(), Map.of(), Limits.DEFAULT);
    }

    public static Policy load(Path file) throws IOException {
        return parse(file.toString(), Files.readString(file), Ids.read());
    }

    /** The policy file's text, named {@code name} in the reason when it does not load. */
    static Policy parse(String name, String json, Ids ids) {
        var b = dev.mountkeeper.shared.proto.Policy.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("Invalid policy " + Quote.string(name) + ": " + jsonReason(e), e);
        }
        try {
            return of(b.build(), ids);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid policy " + Quote.string(name) + ": " + e.getMessage(), e);
        }
    }

    /** The JSON parser's reason without the class names of the library's exceptions it wraps. */
    private static String jsonReason(InvalidProtocolBufferException e) {
        return String.valueOf(e.getMessage()).replaceAll("(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error): ", "")
                .replaceAll("\\s*\\R\\s*", " ");
    }

    static Policy of(dev.mountkeeper.shared.proto.Policy p, Ids ids) {
        List<CompiledRule> rules = new ArrayList<>();
        for (int i = 0; i < p.getRulesCount(); i++) {
            Rule r = p.getRules(i);
            String where = "rules[" + i + "]";
            if (r.getUsersCount() == 0) throw new IllegalArgumentException(where + " names no users");
            if (r.getTargetsCount() == 0) throw new IllegalArgumentException(where + " names no targets");
            Set<Integer> uids = new java.util.HashSet<>(), gids = new java.util.HashSet<>();
            for (String u : r.getUsersList()) {
                if (u.startsWith("@")) gids.add(ids.gid(u.substring(1)));
                else uids.add(ids.uid(u));
            }
            List<String> targets = r.getTargetsList().stream().map(t -> SpecPaths.absolute(where + ".targets", t)).toList();
            List<String> sources = r.getSourcesList().stream().map(t -> SpecPaths.absolute(where + ".sources", t)).toList();
            for (String t : r.getTypesList()) {
                if (!MOUNT_TYPES.contains(t) && dev.mountkeeper.mount.MountProviders.find(t).isEmpty()) {
                    throw new IllegalArgumentException(where + ".types: unknown type " + Quote.string(t) + " (known: "
                            + String.join(", ", MOUNT_TYPES.stream().sorted().toList()) + ")");
                }
            }
            boolean providers = r.getTypesList().stream().anyMatch(t -> !MOUNT_TYPES.contains(t));
            for (String o : r.getOptionsList()) {
                // A provider defines its own options; for the daemon's types, a typo must not pass as a grant.
                if (!GRANTABLE.contains(o) && !DEFAULT_OPTIONS.contains(o) && !(providers && o.matches("[a-z0-9_-]+"))) {
                    throw new IllegalArgumentException(where + ".options: unknown option " + Quote.string(o) + " (grantable: "
                            + String.join(", ", GRANTABLE.stream().sorted().toList()) + ", or a provider's own option)");
                }
            }
            rules.add(new CompiledRule(Set.copyOf(uids), Set.copyOf(gids), targets, sources,
                    r.getTypesCount() == 0 ? MOUNT_TYPES : Set.copyOf(r.getTypesList()), Set.copyOf(r.getOptionsList())));
        }
        return new Policy(List.copyOf(rules), Map.copyOf(p.getContextsMap()), Limits.of(p.getLimits()));
    }

    public Limits limits() {
        return limits;
    }

    public boolean lazyUnmount(String context) {
        ContextConfig c = contexts.get(context);
        return c != null && c.getLazyUnmount();
    }

    /** The grant for {@code spec}, or why there is none. */
    public Grant authorize(Peer peer, MountSpec spec) throws ApiException {
        if (peer.isRoot()) return new Grant("/", null, null);
        Grant best = null;
        String refused = null; // an option that kept an otherwise matching rule from applying
        List<String> words = optionWords(spec);
        for (CompiledRule r : rules) {
            if (!applies(r, peer) || !r.types().contains(spec.type())) continue;
            for (String t : r.targets()) {
                if (!SpecPaths.isAtOrBelow(spec.dest(), t) || spec.dest().equals(t)) continue;
                String missing = words.stream().filter(w -> !DEFAULT_OPTIONS.contains(w) && !r.options().contains(w))
                        .findFirst().orElse(null);
                if (missing != null) {
                    refused = missing;
                } else if (best == null || t.length() > best.base().length()) {
                    best = new Grant(t, r.sources(), r.options());
                }
            }
        }
        if (best == null) {
            throw ApiException.forbidden("The policy does not allow " + peer + " to mount " + spec.type() + " on "
                    + Quote.string(spec.dest()) + (refused == null ? "" : " with option " + Quote.string(refused)));
        }
        return best;
    }

    /** The spec's options as the policy names them (a provider's: each one's name, before any '='). */
    static List<String> optionWords(MountSpec spec) {
        if (spec instanceof MountSpec.Provided p) {
            return p.providerOptions().stream().map(o -> o.contains("=") ? o.substring(0, o.indexOf('=')) : o).toList();
        }
        var o = spec.options();
        List<String> w = new ArrayList<>();
        if (o.readOnly()) w.add("ro");
        if (o.nosuid()) w.add("nosuid");
        if (o.nodev()) w.add("nodev");
        if (o.noexec()) w.add("noexec");
        if (o.propagation() != null) w.add(o.propagation().option());
        if (o.recursive()) w.add("recursive");
        if (o.sizeBytes() != null) w.add("size");
        if (o.mode() != null) w.add("mode");
        return w;
    }

    /** Whether {@code peer} may act on a mount at {@code target} (sweeping it, for one). */
    public boolean mayTouch(Peer peer, String target) {
        if (peer.isRoot()) return true;
        return rules.stream().filter(r -> applies(r, peer)).flatMap(r -> r.targets().stream())
                .anyMatch(t -> SpecPaths.isAtOrBelow(target, t) && !target.equals(t));
    }

    /** Every target prefix of every rule: where mounts found without a state may be ours. */
    List<String> allTargets() {
        return rules.stream().flatMap(r -> r.targets().stream()).distinct().toList();
    }

    private static boolean applies(CompiledRule r, Peer peer) {
        return r.uids().contains(peer.uid()) || peer.groups().stream().anyMatch(r.gids()::contains);
    }

    /** User and group names from /etc/passwd and /etc/group; numbers stand for themselves. */
    record Ids(Map<String, Integer> users, Map<String, Integer> groups) {
        static Ids read() throws IOException {
            return new Ids(names(Path.of("/etc/passwd")), names(Path.of("/etc/group")));
        }

        private static Map<String, Integer> names(Path file) throws IOException {
            Map<String, Integer> m = new HashMap<>();
            for (String line : Files.readAllLines(file)) {
                String[] f = line.split(":");
                if (f.length > 2 && !line.startsWith("#")) m.putIfAbsent(f[0], Integer.parseInt(f[2]));
            }
            return m;
        }

        int uid(String name) { return id(name, users, "user"); }

        int gid(String name) { return id(name, groups, "group"); }

        private static int id(String name, Map<String, Integer> names, String what) {
            if (name.matches("[0-9]+")) {
                try {
                    return Integer.parseInt(name);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(what + " id " + Quote.string(name) + " is out of range");
                }
            }
            Integer id = names.get(name);
            if (id == null) throw new IllegalArgumentException("unknown " + what + " " + Quote.string(name));
            return id;
        }
    }
}
