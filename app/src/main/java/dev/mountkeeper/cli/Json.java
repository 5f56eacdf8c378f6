package dev.mountkeeper.cli;

import java.util.List;

/**
 * {@code mounts -J}: findmnt's JSON, {@code {"filesystems": [...]}} with one object per mount, keyed
 * by the columns' names in lower case; ids are numbers, missing values null, and in a tree each
 * mount's submounts are its "children".
 */
final class Json {
    private final List<MountColumn> columns;

    Json(List<MountColumn> columns) {
        this.columns = columns;
    }

    String list(List<MountColumn.Row> rows) {
        StringBuilder b = new StringBuilder("{\n   \"filesystems\": [");
        for (int i = 0; i < rows.size(); i++) object(b, rows.get(i), List.of(), 2, i > 0);
        return b.append(rows.isEmpty() ? "]\n}" : "\n   ]\n}").toString();
    }

    String tree(MountForest forest) {
        StringBuilder b = new StringBuilder("{\n   \"filesystems\": [");
        for (int i = 0; i < forest.roots().size(); i++) node(b, forest.roots().get(i), 2, i > 0);
        return b.append(forest.roots().isEmpty() ? "]\n}" : "\n   ]\n}").toString();
    }

    private void node(StringBuilder b, MountForest.Node n, int depth, boolean comma) {
        object(b, n.row(), n.children(), depth, comma);
    }

    private void object(StringBuilder b, MountColumn.Row r, List<MountForest.Node> children, int depth, boolean comma) {
        String in = "   ".repeat(depth);
        b.append(comma ? "," : "").append('\n').append(in).append('{');
        for (int i = 0; i < columns.size(); i++) {
            MountColumn c = columns.get(i);
            String v = c.value(r);
            b.append(i > 0 ? "," : "").append('\n').append(in).append("   ").append(str(c.jsonKey())).append(": ")
                    .append(v == null ? "null" : c.numeric ? v : str(v));
        }
        if (!children.isEmpty()) {
            b.append(",\n").append(in).append("   \"children\": [");
            for (int i = 0; i < children.size(); i++) node(b, children.get(i), depth + 2, i > 0);
            b.append('\n').append(in).append("   ]");
        }
        b.append('\n').append(in).append('}');
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
