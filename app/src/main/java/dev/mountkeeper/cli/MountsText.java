package dev.mountkeeper.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** {@code mounts} as text: findmnt's aligned table (optionally a tree in TARGET) or its raw form. */
final class MountsText {
    /** A line to print: the row and, in a tree, what precedes its TARGET ("│ ├─"). */
    private record Line(MountColumn.Row row, String indent) {}

    private final List<MountColumn> columns;
    private final boolean headings, raw;

    MountsText(List<MountColumn> columns, boolean headings, boolean raw) {
        this.columns = columns;
        this.headings = headings;
        this.raw = raw;
    }

    void list(PrintWriter out, List<MountColumn.Row> rows) {
        List<Line> lines = new ArrayList<>();
        for (MountColumn.Row r : rows) lines.add(new Line(r, ""));
        print(out, lines);
    }

    void tree(PrintWriter out, MountForest forest, boolean ascii) {
        List<Line> lines = new ArrayList<>();
        for (MountForest.Node n : forest.roots()) walk(n, "", "", lines, ascii);
        print(out, lines);
    }

    private static void walk(MountForest.Node n, String indent, String childIndent, List<Line> out, boolean ascii) {
        out.add(new Line(n.row(), indent));
        for (int i = 0; i < n.children().size(); i++) {
            boolean last = i == n.children().size() - 1;
            String branch = ascii ? (last ? "`-" : "|-") : (last ? "└─" : "├─");
            String pipe = last ? "  " : ascii ? "| " : "│ ";
            walk(n.children().get(i), childIndent + branch, childIndent + pipe, out, ascii);
        }
    }

    private void print(PrintWriter out, List<Line> lines) {
        List<String[]> cells = new ArrayList<>();
        if (headings) cells.add(columns.stream().map(c -> c.header).toArray(String[]::new));
        for (Line l : lines) {
            String[] row = new String[columns.size()];
            for (int i = 0; i < row.length; i++) {
                MountColumn c = columns.get(i);
                String v = c.value(l.row());
                v = v == null ? "" : raw ? escape(v) : v;
                row[i] = c == MountColumn.TARGET && !raw ? l.indent() + v : v;
            }
            cells.add(row);
        }
        int[] width = new int[columns.size()];
        for (String[] row : cells) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].codePointCount(0, row[i].length()));
        for (String[] row : cells) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i > 0) b.append(' ');
                int pad = raw ? 0 : width[i] - row[i].codePointCount(0, row[i].length());
                boolean last = i == row.length - 1;
                if (columns.get(i).numeric) b.append(" ".repeat(pad)).append(row[i]);
                else b.append(row[i]).append(last ? "" : " ".repeat(pad));
            }
            out.println(b);
        }
    }

    /** As findmnt's raw output: blanks, backslashes and control characters as \xHH (only ASCII ever is). */
    static String escape(String s) {
        StringBuilder out = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch <= 0x20 || ch == 0x7f || ch == '\\') out.append(String.format("\\x%02x", (int) ch));
            else out.append(ch);
        }
        return out.toString();
    }
}
