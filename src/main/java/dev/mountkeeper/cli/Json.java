package dev.mountkeeper.cli;

import dev.mountkeeper.mount.MountEntry;
import java.util.List;
import java.util.StringJoiner;

/** The JSON output of {@code mounts --json}: flat objects of strings, numbers and booleans. */
final class Json {
    private Json() {}

    static String mounts(List<MountEntry> mounts) {
        StringJoiner arr = new StringJoiner(",\n  ", "[\n  ", "\n]");
        arr.setEmptyValue("[]");
        for (MountEntry e : mounts) {
            arr.add("{\"id\": " + e.id() + ", \"parent_id\": " + e.parentId() + ", \"mount_point\": " + str(e.mountPoint())
                    + ", \"root\": " + str(e.root()) + ", \"fs_type\": " + str(e.fsType()) + ", \"source\": "
                    + str(e.source()) + ", \"flags\": " + str(e.flags()) + ", \"propagation\": " + str(e.propagation()) + "}");
        }
        return arr.toString();
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
