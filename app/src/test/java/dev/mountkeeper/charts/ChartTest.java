package dev.mountkeeper.charts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartTest {
    @Test
    void jmhSampleTimeRowsGiveTheirMediansSideBySide(@TempDir Path tmp) throws Exception {
        List<String> csv = List.of(
                "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: kind\"",
                "\"dev.mountkeeper.bench.MountBenchmark.mountkeeper\",\"sample\",1,100,110.5,3.1,\"us/op\",proc",
                "\"dev.mountkeeper.bench.MountBenchmark.mountkeeper:p0.50\",\"sample\",1,1,100.0,NaN,\"us/op\",proc",
                "\"dev.mountkeeper.bench.MountBenchmark.plainMount2ByPath:p0.50\",\"sample\",1,1,50.0,NaN,\"us/op\",proc");
        assertThat(Chart.read(csv)).containsExactly(new Chart.Bar("kind=proc", "mountkeeper", 100.0, "us/op"),
                new Chart.Bar("kind=proc", "plainMount2ByPath", 50.0, "us/op"));
        Path file = tmp.resolve("mount.csv");
        Files.write(file, csv);
        Chart.main(new String[] {file.toString(), "mount + unmount"});
        byte[] png = Files.readAllBytes(tmp.resolve("mount.png"));
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void aPlainCsvIsGroupSystemValueUnit() {
        assertThat(Chart.read(List.of("group,system,value,unit", "8 clients,daemon,5000,round trips/s")))
                .containsExactly(new Chart.Bar("8 clients", "daemon", 5000, "round trips/s"));
    }
}
