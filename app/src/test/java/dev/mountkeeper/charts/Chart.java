package dev.mountkeeper.charts;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Draws a benchmark's CSV as a bar chart, the compared systems side by side, into a PNG next to it:
 * {@code Chart FILE.csv TITLE}. Reads JMH's CSV ({@code -rf csv}; for sample-time runs, the
 * medians), or a plain {@code group,system,value,unit} one (bench/shared).
 */
public final class Chart {
    private Chart() {}

    record Bar(String group, String system, double value, String unit) {}

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path csv = Path.of(args[0]);
        List<Bar> bars = read(Files.readAllLines(csv));
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Bar b : bars) data.addValue(b.value(), b.system(), b.group());
        String unit = bars.isEmpty() ? "" : bars.getFirst().unit();
        JFreeChart chart = ChartFactory.createBarChart(args.length > 1 ? args[1] : csv.getFileName().toString(),
                null, unit, data, PlotOrientation.VERTICAL, true, false, false);
        Path png = csv.resolveSibling(csv.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
        ChartUtils.saveChartAsPNG(new File(png.toString()), chart, 1000, 560);
        System.out.println("chart: " + png);
    }

    static List<Bar> read(List<String> lines) {
        List<Bar> bars = new ArrayList<>();
        if (lines.isEmpty()) return bars;
        List<String> header = cells(lines.getFirst());
        boolean jmh = header.getFirst().equals("Benchmark");
        boolean sampled = jmh && lines.stream().anyMatch(l -> l.contains(":p0.50\""));
        for (String line : lines.subList(1, lines.size())) {
            List<String> c = cells(line);
            if (!jmh) {
                bars.add(new Bar(c.get(0), c.get(1), Double.parseDouble(c.get(2)), c.get(3)));
                continue;
            }
            String name = c.get(0);
            if (sampled != name.endsWith(":p0.50")) continue;
            String method = name.replaceFirst(":.*", "");
            method = method.substring(method.lastIndexOf('.') + 1);
            List<String> params = new ArrayList<>();
            for (int i = 7; i < c.size(); i++) params.add(header.get(i).replace("Param: ", "") + "=" + c.get(i));
            String group = params.isEmpty() ? "threads=" + c.get(2) : String.join(" ", params);
            bars.add(new Bar(group, method, Double.parseDouble(c.get(4)), c.get(6)));
        }
        return bars;
    }

    /** One CSV line's cells: JMH quotes every cell and never puts a quote inside one. */
    private static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
        for (String cell : line.split(",", -1)) out.add(cell.replace("\"", "").strip());
        return out;
    }
}
