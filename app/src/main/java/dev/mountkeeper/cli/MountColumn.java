package dev.mountkeeper.cli;

import dev.mountkeeper.mount.MountInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The columns of {@code mounts -o}, named as findmnt names them; JSON keys are the names in lower case. */
enum MountColumn {
    TARGET("TARGET", false, r -> r.info().mountPoint()),
    SOURCE("SOURCE", false, MountColumn::source),
    FSTYPE("FSTYPE", false, r -> r.info().fsType()),
    OPTIONS("OPTIONS", false, r -> r.info().options()),
    VFS_OPTIONS("VFS-OPTIONS", false, r -> r.info().vfsOptions()),
    FS_OPTIONS("FS-OPTIONS", false, r -> r.info().fsOptions()),
    FSROOT("FSROOT", false, r -> r.info().root()),
    MAJ_MIN("MAJ:MIN", false, r -> r.info().majorMinor()),
    OPT_FIELDS("OPT-FIELDS", false, r -> r.info().optionalFields()),
    PROPAGATION("PROPAGATION", false, r -> r.info().propagation()),
    ID("ID", true, r -> Integer.toString(r.info().id())),
    PARENT("PARENT", true, r -> Integer.toString(r.info().parent())),
    UNIQ_ID("UNIQ-ID", true, r -> r.uniqueId() == null ? null : Long.toUnsignedString(r.uniqueId()));

    static final List<MountColumn> DEFAULT = List.of(TARGET, SOURCE, FSTYPE, OPTIONS);

    /** A mount as the columns see it: its mountinfo line and its 64-bit id, null where the kernel has none. */
    record Row(MountInfo info, Long uniqueId) {}

    final String header;
    /** Right-aligned in tables and a number in JSON. */
    final boolean numeric;
    private final Function<Row, String> value;

    MountColumn(String header, boolean numeric, Function<Row, String> value) {
        this.header = header;
        this.numeric = numeric;
        this.value = value;
    }

    /** The value, or null where there is none (an empty field). */
    String value(Row r) {
        String v = value.apply(r);
        return v == null || v.isEmpty() ? null : v;
    }

    String jsonKey() {
        return header.toLowerCase(Locale.ROOT);
    }

    /** findmnt's SOURCE: the source, with the mount's root in brackets when it is not the filesystem's root. */
    private static String source(Row r) {
        String s = r.info().source(), root = r.info().root();
        return s.isEmpty() || root.equals("/") ? s : s + "[" + root + "]";
    }

    /** {@code -o} as findmnt reads it: names in any case, comma-separated; a leading "+" adds to the default. */
    static List<MountColumn> parse(String list) {
        List<MountColumn> out = new ArrayList<>();
        if (list.startsWith("+")) {
            out.addAll(DEFAULT);
            list = list.substring(1);
        }
        for (String name : list.split(",")) {
            MountColumn c = null;
            for (MountColumn k : values()) if (k.header.equalsIgnoreCase(name.strip())) c = k;
            if (c == null) throw new IllegalArgumentException("unknown column: " + name + " (known: " + names() + ")");
            out.add(c);
        }
        return out;
    }

    static String names() {
        StringBuilder b = new StringBuilder();
        for (MountColumn c : values()) b.append(b.isEmpty() ? "" : ", ").append(c.header);
        return b.toString();
    }
}
