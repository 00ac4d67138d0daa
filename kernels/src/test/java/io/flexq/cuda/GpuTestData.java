package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.plugin.cpu.IntegerReference;
import io.flexq.runtime.spi.WeightBackend;
import org.junit.jupiter.api.Assumptions;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Random test inputs and CPU-reference outputs shared by the GPU tests. */
final class GpuTestData {

    private GpuTestData() {
    }

    private static WeightBackend.Availability probed;

    /** The probe's verdict, once per JVM. */
    static synchronized WeightBackend.Availability gpu() {
        if (probed == null) {
            probed = CudaProbe.probe(Integer.getInteger("flexq.cuda.device", 0));
        }
        return probed;
    }

    /** Skips the calling test, with the probe's reason, when there is no usable GPU. */
    static void assumeGpu() {
        WeightBackend.Availability a = gpu();
        Assumptions.assumeTrue(a.available(), () -> "skipped, no usable GPU: " + a.reason());
    }

    /** Random weights: codes uniform in [-32, 31] (both ends included), fp16 scales positive normals 2^-12 .. 2^-4. */
    static FlexqWeights weights(String name, int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int groups = (cols + 127) / 128, padded = groups * 128;
        byte[] codes = new byte[Math.multiplyExact(rows, padded)];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                codes[r * padded + k] = (byte) (rnd.nextInt(64) - 32);
            }
        }
        short[] scales = new short[rows * groups];
        for (int i = 0; i < scales.length; i++) {
            int exp = 3 + rnd.nextInt(9);  // biased fp16 exponent 3..11
            scales[i] = (short) ((exp << 10) | rnd.nextInt(1024));
        }
        return FlexqWeights.of(name, rows, cols, codes, scales);
    }

    /** Random activations, never zero: |x| in [0.01, 1), one in 61 scaled by 40 (an outlier), random sign. */
    static float[] activations(int tokens, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[Math.multiplyExact(tokens, cols)];
        for (int i = 0; i < x.length; i++) {
            float v = 0.01f + 0.99f * (float) rnd.nextDouble();
            if (rnd.nextInt(61) == 0) {
                v *= 40f;
            }
            x[i] = rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    /** Reference partials P[(t * rows + r) * groups + g], by IntegerReference, tokens in parallel. */
    static int[] partials(FlexqWeights w, QuantizedActivations a) {
        int rows = w.rows(), groups = w.groups();
        int[] p = new int[Math.multiplyExact(Math.multiplyExact(a.tokens(), rows), groups)];
        IntStream.range(0, a.tokens()).parallel().forEach(t -> {
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < groups; g++) {
                    p[(t * rows + r) * groups + g] = IntegerReference.partial(w, a, t, r, g);
                }
            }
        });
        return p;
    }

    /** Reference y from the partials, and the contract's bound for other summation orders. */
    static float[][] outputs(FlexqWeights w, QuantizedActivations a, int[] p) {
        int rows = w.rows(), groups = w.groups();
        float[] y = new float[a.tokens() * rows];
        float[] bound = new float[y.length];
        IntStream.range(0, a.tokens()).parallel().forEach(t -> {
            for (int r = 0; r < rows; r++) {
                int off = (t * rows + r) * groups;
                y[t * rows + r] = IntegerReference.epilogue(w, a, t, r, p, off);
                double mag = 0;
                for (int g = 0; g < groups; g++) {
                    mag += Math.abs((double) p[off + g] * w.scale(r, g) * a.scale(t, g));
                }
                bound[t * rows + r] = (float) (groups * Math.scalb(1.0, -22) * mag + 1e-30);
            }
        });
        return new float[][] {y, bound};
    }

    static ActivationMode mode(int bits) {
        return ActivationMode.ofBits(bits, "test");
    }
}
