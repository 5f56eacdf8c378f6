package dev.mountkeeper.mount;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The spec language: {@code TYPE:SOURCE:DEST[:OPTIONS]}, where OPTIONS is a comma-separated list.
 * A ':' or '\' inside a field is written "\:" or "\\". Parsing touches nothing outside the string;
 * formatting a spec and parsing the result gives the same value.
 */
public final class MountSpecs {
    private MountSpecs() {}

    public static final List<String> TYPES = List.of("bind", "rbind", "pbind", "ro-bind", "proc", "sysfs",
            "tmpfs", "devpts", "mqueue", "dev", "dir", "symlink");
    public static final List<String> OPTIONS = List.of("ro", "nosuid", "nodev", "noexec", "private", "slave",
            "shared", "recursive", "try", "size=", "mode=");

    public static MountSpec parse(String spec) {
        try {
            return parseFields(spec);
        } catch (IllegalArgumentException e) {
            throw new InvalidSpecException(spec, e.getMessage());
        }
    }

    public static List<MountSpec> parseAll(List<String> specs) {
        List<MountSpec> out = new ArrayList<>(specs.size());
        for (String s : specs) out.add(parse(s));
        return List.copyOf(out);
    }

    private static MountSpec parseFields(String spec) {
        if (spec == null || spec.isEmpty()) throw new IllegalArgumentException("the spec is empty");
        if (spec.indexOf('\0') >= 0) throw new IllegalArgumentException("the spec contains a NUL byte");
        List<String> f = split(spec);
        if (f.size() < 3 || f.size() > 4) {
            throw new IllegalArgumentException("expected TYPE:SOURCE:DEST[:OPTIONS], found " + f.size() + " field"
                    + (f.size() == 1 ? "" : "s"));
        }
        String type = f.get(0), source = f.get(1), dest = f.get(2);
        if (dest.isEmpty()) throw new IllegalArgumentException("the destination is empty");
        if (!TYPES.contains(type) && MountProviders.find(type).isPresent()) {
            if (f.size() == 4 && f.get(3).isEmpty()) throw new IllegalArgumentException("the options field is empty");
            return new MountSpec.Provided(type, source, dest, f.size() == 4 ? List.of(f.get(3).split(",", -1)) : List.of());
        }
        MountOptions options = f.size() == 4 ? options(f.get(3)) : MountOptions.NONE;
        return switch (type) {
            case "bind" -> new MountSpec.Bind(MountSpec.BindType.BIND, requireSource(type, source), dest, options);
            case "rbind" -> new MountSpec.Bind(MountSpec.BindType.RBIND, requireSource(type, source), dest, options);
            case "pbind" -> new MountSpec.Bind(MountSpec.BindType.PBIND, requireSource(type, source), dest, options);
            case "ro-bind" -> new MountSpec.Bind(MountSpec.BindType.RO_BIND, requireSource(type, source), dest, options);
            case "proc" -> new MountSpec.Filesystem(MountSpec.FsType.PROC, source, dest, options);
            case "sysfs" -> new MountSpec.Filesystem(MountSpec.FsType.SYSFS, source, dest, options);
            case "tmpfs" -> new MountSpec.Filesystem(MountSpec.FsType.TMPFS, source, dest, options);
            case "devpts" -> new MountSpec.Filesystem(MountSpec.FsType.DEVPTS, source, dest, options);
            case "mqueue" -> new MountSpec.Filesystem(MountSpec.FsType.MQUEUE, source, dest, options);
            case "dev" -> new MountSpec.Dev(dest, noSource(type, source, options));
            case "dir" -> new MountSpec.Dir(dest, noSource(type, source, options));
            case "symlink" -> new MountSpec.Symlink(requireSource(type, source), dest);
            case "" -> throw new IllegalArgumentException("the type is empty");
            default -> throw new IllegalArgumentException("unknown type \"" + type + "\" (known: "
                    + String.join(", ", TYPES) + (MountProviders.names().isEmpty() ? "" : "; providers: "
                    + String.join(", ", MountProviders.names())) + ")");
        };
    }

    private static String requireSource(String type, String source) {
        if (source.isEmpty()) throw new IllegalArgumentException("type \"" + type + "\" needs a source");
        return source;
    }

    private static MountOptions noSource(String type, String source, MountOptions options) {
        if (!source.isEmpty()) throw new IllegalArgumentException("type \"" + type + "\" takes no source");
        return options;
    }

    /** Splits on unescaped ':' and resolves the escapes "\:" and "\\". */
    static List<String> split(String spec) {
        List<String> fields = new ArrayList<>(4);
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '\\') {
                if (i + 1 == spec.length()) throw new IllegalArgumentException("it ends with a lone '\\'");
                char next = spec.charAt(++i);
                if (next != ':' && next != '\\') {
                    throw new IllegalArgumentException("unknown escape \"\\" + next + "\" (only \\: and \\\\)");
                }
                cur.append(next);
            } else if (c == ':') {
                fields.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        fields.add(cur.toString());
        return fields;
    }

    private static MountOptions options(String field) {
        if (field.isEmpty()) throw new IllegalArgumentException("the options field is empty");
        boolean ro = false, nosuid = false, nodev = false, noexec = false, recursive = false, optional = false;
        Propagation propagation = null;
        Long size = null;
        Integer mode = null;
        List<String> seen = new ArrayList<>();
        for (String opt : field.split(",", -1)) {
            String key = opt.contains("=") ? opt.substring(0, opt.indexOf('=') + 1) : opt;
            if (opt.isEmpty()) throw new IllegalArgumentException("an option is empty");
            if (seen.contains(key)) throw new IllegalArgumentException("option \"" + key + "\" is given twice");
            seen.add(key);
            switch (key) {
                case "ro" -> ro = true;
                case "nosuid" -> nosuid = true;
                case "nodev" -> nodev = true;
                case "noexec" -> noexec = true;
                case "recursive" -> recursive = true;
                case "try" -> optional = true;
                case "private", "slave", "shared" -> {
                    if (propagation != null) {
                        throw new IllegalArgumentException("options \"" + propagation.option + "\" and \"" + key
                                + "\" contradict each other");
                    }
                    propagation = Propagation.valueOf(key.toUpperCase(java.util.Locale.ROOT));
                }
                case "size=" -> size = parseSize(opt.substring(5));
                case "mode=" -> mode = mode(opt.substring(5));
                default -> throw new IllegalArgumentException("unknown option \"" + opt + "\" (known: "
                        + String.join(", ", OPTIONS) + ")");
            }
        }
        return new MountOptions(ro, nosuid, nodev, noexec, propagation, recursive, optional, size, mode);
    }

    /** Bytes, with an optional k, m or g suffix (powers of 1024), as tmpfs takes them. */
    public static long parseSize(String s) {
        if (!s.matches("[0-9]{1,16}[kKmMgG]?")) {
            throw new IllegalArgumentException("size \"" + s + "\" is not a number of bytes with an optional k, m or g");
        }
        char last = Character.toLowerCase(s.charAt(s.length() - 1));
        int shift = switch (last) { case 'k' -> 10; case 'm' -> 20; case 'g' -> 30; default -> 0; };
        long n = Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1));
        if (n == 0 || n > (1L << 50) >> shift) throw new IllegalArgumentException("size \"" + s + "\" is out of range");
        return n << shift;
    }

    static int mode(String s) {
        if (!s.matches("0?[0-7]{3,4}")) throw new IllegalArgumentException("mode \"" + s + "\" is not an octal mode");
        int m = Integer.parseInt(s, 8);
        if (m > 07777) throw new IllegalArgumentException("mode \"" + s + "\" is out of range");
        return m;
    }

    public static String format(MountSpec spec) {
        String base = spec.type() + ":" + escape(spec.source()) + ":" + escape(spec.dest());
        String opts = spec instanceof MountSpec.Provided p ? escape(String.join(",", p.providerOptions()))
                : formatOptions(spec.options());
        return opts.isEmpty() ? base : base + ":" + opts;
    }

    static String formatOptions(MountOptions o) {
        StringJoiner j = new StringJoiner(",");
        if (o.readOnly()) j.add("ro");
        if (o.nosuid()) j.add("nosuid");
        if (o.nodev()) j.add("nodev");
        if (o.noexec()) j.add("noexec");
        if (o.propagation() != null) j.add(o.propagation().option);
        if (o.recursive()) j.add("recursive");
        if (o.optional()) j.add("try");
        if (o.sizeBytes() != null) j.add("size=" + o.sizeBytes());
        if (o.mode() != null) j.add(String.format("mode=%04o", o.mode()));
        return j.toString();
    }

    static String escape(String field) {
        return field.replace("\\", "\\\\").replace(":", "\\:");
    }

}
