package io.flexq.samples.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * {@link FlexqMatmulBench}'s cases on one thread, timed by the thread's CPU time rather than the wall
 * clock: on a machine shared with other jobs, time spent descheduled does not count, so the minimum and
 * median over calls are far steadier than JMH's wall-clock averages (which remain the reference run).
 * Prints a Markdown table.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -Xmx4g -cp "samples/target/classes:$(cat samples/target/classpath.txt)" \
 *       io.flexq.samples.bench.MatmulCpuTime [seconds per case, default 4]
 * </pre>
 */
public final class MatmulCpuTime {

    private MatmulCpuTime() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 4;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.println("| shape (out x in) | tokens | kind | min ms | median ms | GMAC/s (min) | calls |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String shape : new String[] {"4096x4096", "11008x4096", "4096x11008"}) {
            for (int tokens : new int[] {1, 16}) {
                for (String kind : new String[] {"FQ6_W6A8", "FQ6_W6A6", "FQ6_W6A16", "F32", "Q8_0"}) {
                    FlexqMatmulBench b = new FlexqMatmulBench();
                    b.shape = shape;
                    b.tokens = tokens;
                    b.kind = kind;
                    b.threads = 1;
                    b.setup();
                    try {
                        long warmEnd = System.nanoTime() + (long) (seconds * 0.4e9);
                        while (System.nanoTime() < warmEnd) {
                            b.matmul();
                        }
                        long[] times = new long[100_000];
                        int n = 0;
                        long end = System.nanoTime() + (long) (seconds * 0.6e9);
                        while ((System.nanoTime() < end || n < 5) && n < times.length) {
                            long t0 = mx.getCurrentThreadCpuTime();
                            b.matmul();
                            times[n++] = mx.getCurrentThreadCpuTime() - t0;
                        }
                        long[] sorted = Arrays.copyOf(times, n);
                        Arrays.sort(sorted);
                        String[] rc = shape.split("x");
                        double macs = Double.parseDouble(rc[0]) * Double.parseDouble(rc[1]) * tokens;
                        System.out.printf("| %s | %d | %s | %.3f | %.3f | %.1f | %d |%n", shape, tokens, kind,
                                sorted[0] / 1e6, sorted[n / 2] / 1e6, macs / sorted[0], n);
                    } finally {
                        b.tearDown();
                    }
                }
            }
        }
    }
}
