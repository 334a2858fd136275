// HdrWriter writes an HdrHistogram interval log with HdrHistogram's own Java HistogramLogWriter,
// for tailgate import's interop test (cmd/tailgate/import_test.go compiles and runs it).
//
// usage: java -cp hdrhistogram.jar:. HdrWriter OUT MODE
//   us:  microseconds, 2 significant digits, tags "cpu" and "npu", absolute timestamps
//   ns:  nanoseconds, lowest discernible 1000 ns, 3 digits, untagged, timestamps relative to BaseTime
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.util.Random;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

public class HdrWriter {
    public static void main(String[] args) throws Exception {
        String mode = args[1];
        boolean us = mode.equals("us");
        Random rnd = new Random(7);
        long startMs = 1795655091123L;
        try (PrintStream out = new PrintStream(new FileOutputStream(args[0]))) {
            HistogramLogWriter w = new HistogramLogWriter(out);
            w.outputComment("[Logged with HdrWriter, a tailgate test]");
            w.outputLogFormatVersion();
            w.outputStartTime(startMs);
            if (!us) {
                w.setBaseTime(startMs);
                w.outputBaseTime(startMs);
            }
            w.outputLegend();
            String[] tags = us ? new String[] {"cpu", "npu"} : new String[] {null};
            for (int i = 0; i < 60; i++) {
                for (String tag : tags) {
                    Histogram h = us ? new Histogram(3_600_000_000L, 2) : new Histogram(1000, 3_600_000_000_000L, 3);
                    h.setTag(tag);
                    // a lognormal body around 2 ms (npu: 0.5 ms) with a 1 % tail twenty times slower
                    double median = "npu".equals(tag) ? 500e3 : 2e6;
                    for (int k = 0; k < 3000; k++) {
                        double ns = Math.exp(Math.log(median) + 0.3 * rnd.nextGaussian());
                        if (rnd.nextDouble() < 0.01) {
                            ns *= 20;
                        }
                        h.recordValue(us ? (long) (ns / 1000) : (long) ns);
                    }
                    h.setStartTimeStamp(startMs + i * 1000L);
                    h.setEndTimeStamp(startMs + (i + 1) * 1000L);
                    w.outputIntervalHistogram(h);
                }
            }
        }
    }
}
