package io.flexq.plugin.cpu.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * A STREAM-like read bandwidth: the threads of a pool each sum their own array (together much larger than the
 * last-level cache) with vector adds in four independent chains, so the adds never limit the loads. The best of
 * several passes, in bytes per second: about the most a weight-streaming kernel can reach on this machine.
 */
final class ReadBandwidth {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private ReadBandwidth() {
    }

    static double measure(ForkJoinPool pool, long bytes, double seconds) throws Exception {
        int threads = pool.getParallelism();
        int floats = (int) Math.min(Integer.MAX_VALUE - 64, bytes / threads / 4) / (4 * F.length()) * (4 * F.length());
        float[][] parts = new float[threads][];
        for (int t = 0; t < threads; t++) {
            parts[t] = new float[floats];
            java.util.Arrays.fill(parts[t], 1f); // touch every page before timing
        }
        float sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += sum(parts[0], 16 << 10); // compile the loop before the timed passes
        }
        double best = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int pass = 0; pass < 5 || System.nanoTime() < end; pass++) {
            long t0 = System.nanoTime();
            double s = pool.submit(() -> IntStream.range(0, threads).parallel()
                    .mapToDouble(t -> sum(parts[t], floats)).sum()).get();
            long ns = System.nanoTime() - t0;
            sink += (float) s;
            best = Math.max(best, 4.0 * floats * threads / (ns * 1e-9));
        }
        if (sink == 42) {
            System.out.print(""); // keeps the sums live
        }
        return best;
    }

    private static float sum(float[] a, int n) {
        int l = F.length();
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i + 4 * l <= n; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + l));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * l));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }
}
