package dev.mountkeeper.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Usage text as bubblewrap's and coreutils' read: {@code --bind SRC DEST}, not picocli's
 * {@code --bind=SRC DEST SRC DEST}; {@code [OPTIONS]} in the synopsis; descriptions wrapped at
 * the terminal's width as whole paragraphs, not at each source line. Parsing is unchanged
 * ({@code --root=DIR} still works).
 */
final class HelpFormat {
    private HelpFormat() {}

    static void install(CommandLine cl) {
        apply(cl);
        cl.setUsageHelpAutoWidth(true);
        cl.setHelpFactory((spec, scheme) -> new Help(spec, scheme) {
            @Override
            public IParamLabelRenderer parameterLabelRenderer() {
                return new Labels();
            }
        });
    }

    private static void apply(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        spec.usageMessage().abbreviateSynopsis(true).description(paragraphs(spec.usageMessage().description()));
        cl.getSubcommands().values().forEach(HelpFormat::apply);
    }

    /** Source lines joined into paragraphs; an empty line (or a line starting with a space) starts a new one. */
    static String[] paragraphs(String[] lines) {
        List<String> out = new ArrayList<>();
        StringBuilder p = new StringBuilder();
        for (String line : lines) {
            boolean breakBefore = line.isEmpty() || line.startsWith(" ");
            if (breakBefore && !p.isEmpty()) {
                out.add(p.toString());
                p.setLength(0);
                if (line.isEmpty()) out.add("");
            }
            if (!line.isEmpty()) p.append(p.isEmpty() ? line.strip() : " " + line.strip());
        }
        if (!p.isEmpty()) out.add(p.toString());
        return out.toArray(String[]::new);
    }

    /** Each option's parameter once, after a space: {@code --bind SRC DEST}, {@code --proc DEST}. */
    private static final class Labels implements Help.IParamLabelRenderer {
        @Override
        public Ansi.Text renderParameterLabel(ArgSpec a, Ansi ansi, List<Ansi.IStyle> styles) {
            if (a.arity().max() == 0) return ansi.new Text("");
            String label = a.paramLabel();
            if (a.isOption()) return ansi.new Text(" " + (a.arity().min() == 0 ? "[" + label + "]" : label));
            return ansi.new Text(a.arity().max() > 1 ? label + "..." : label);
        }

        @Override
        public String separator() {
            return " ";
        }
    }
}
