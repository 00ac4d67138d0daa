package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One-token Q4_0 and Q6_K matmuls with 8-bit activations ({@link Int8Gemv}) on random ragged shapes (Q4_0 rows of
 * 1-40 blocks, across the 16-block group; Q6_K of 1-5 super-blocks), activations of mixed magnitude with all-zero blocks:
 * <ul>
 *   <li>the native loop and the Java loop give the same bits, and so do the native and Java quantizers;</li>
 *   <li>against float64 of the weights ({@code SpecDecoder}, the published layouts) times the activation codes this
 *   test computes itself (d = amax / 127 in fp32, q = round-half-even(x * (1 / d)) clamped to +-127): within the
 *   epilogue's bound. Each 32-block's integer sum I_j is exact (|I_j| < 2^24 also makes (float) I_j exact), d_w d_x
 *   rounds once (u = 2^-24), and a term then passes through at most k fma roundings in its lane (k = blocks per lane:
 *   ceil(blocks / 16) for Q4_0, super-blocks for Q6_K) and 4 additions of the lane sum, so
 *   |y - sum_j I_j d_w d_x| <= gamma_(k + 5) sum_j |I_j d_w d_x| <= (k + 6) u sum_j |I_j d_w d_x|: one wrong code,
 *   nibble or scale index moves a row by far more;</li>
 *   <li>against the fp32 activations: that bound plus the activation rounding sum_c |w_c| d_x(c) (1/2 + 2^-16).</li>
 * </ul>
 */
class Int8GemvTest {

    private static final long SEED = 1312L;

    @Test
    void nativeAndJavaLoopsAgreeBitForBitAndMatchFloat64WithinTheDerivedBounds() {
        Random rnd = new Random(SEED);
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 24; trial++) {
                TensorType type = trial % 2 == 0 ? QuantTypes.Q4_0 : QuantTypes.Q6_K;
                int cols = type == QuantTypes.Q4_0 ? 32 * (1 + rnd.nextInt(40)) : 256 * (1 + rnd.nextInt(5));
                int rows = 1 + rnd.nextInt(40);
                KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                MemorySegment w = c.segment(arena, true);
                float[] x = KernelCheck.scaledActivations(rnd, cols, true, trial);
                NativeQ8.Codes a = quantize(x, false);
                String ctx = "seed " + SEED + ", trial " + trial + ", " + type.name() + " " + rows + "x" + cols;
                assertArrayEquals(a.codes(), quantize(x, true).codes(), ctx + ": native vs Java codes");
                assertArrayEquals(a.scales(), quantize(x, true).scales(), ctx + ": native vs Java scales");

                long rowBytes = type.rowBytes(cols);
                int r0 = rnd.nextInt(rows);
                MemorySegment yJava = arena.allocate(4L * rows);
                Int8Gemv.gemv(type, w, rowBytes, cols, r0, rows, a, yJava, false);
                for (int r = 0; r < rows; r++) {
                    float got = yJava.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                    if (r < r0) {
                        assertEquals(0f, got, ctx + ": row " + r + " written outside [" + r0 + ", " + rows + ")");
                    } else {
                        checkRow(type, c.w()[r], x, got, ctx + ", row " + r);
                    }
                }
                if (Int8Gemv.nativeFor(type)) {
                    MemorySegment yNative = arena.allocate(4L * rows);
                    Int8Gemv.gemv(type, w, rowBytes, cols, r0, rows, a, yNative, true);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(yJava.getAtIndex(ValueLayout.JAVA_FLOAT, r)),
                                Float.floatToRawIntBits(yNative.getAtIndex(ValueLayout.JAVA_FLOAT, r)), ctx + ", row " + r + ": native vs Java");
                    }
                }
            }
        }
    }

    @Test
    void oneTokenQ4_0AndQ6_KMatmulsRunWithEightBitActivationsThroughTheBackend() {
        Assumptions.assumeTrue(Int8Gemv.runs(QuantTypes.Q4_0), "-Dflexq.cpu.q8Decode keeps the fp32 kernels here");
        Random rnd = new Random(SEED + 1);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(3));
        try (Arena arena = Arena.ofShared()) {
            for (TensorType type : new TensorType[]{QuantTypes.Q4_0, QuantTypes.Q6_K}) {
                int cols = type == QuantTypes.Q4_0 ? 1376 : 768, rows = 300; // past the serial threshold: row chunks on the pool
                KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                CpuMatrix m = backend.load("w", type, rows, cols, c.segment(arena, true));
                assertTrue(m.describe().contains("int8-activation decode"), m.describe());
                ActivationBatch in = ActivationBatch.allocate(arena, 1, cols);
                float[] x = KernelCheck.scaledActivations(rnd, cols, true, 3);
                for (int i = 0; i < cols; i++) {
                    in.set(0, i, x[i]);
                }
                ActivationBatch out = ActivationBatch.allocate(arena, 1, rows);
                m.matmul(in, out);
                for (int r = 0; r < rows; r++) {
                    checkRow(type, c.w()[r], x, out.get(0, r), "seed " + (SEED + 1) + ", " + m.describe() + ", row " + r);
                }
            }
        }
    }

    /**
     * A token alone (this one-token loop) and the same token inside a prompt (NativeQ8's GEMM) share codes and exact block
     * sums and differ only in the epilogue order: within the sum of the two epilogue bounds, (k + 6) u and (blocks + 2) u
     * times sum_j |I_j d_w d_x|.
     */
    @Test
    void aTokenAloneAndInsideAPromptAgreeWithinTheEpilogueBounds() {
        Assumptions.assumeTrue(Int8Gemv.runs(QuantTypes.Q4_0) && NativeQ8.available(), "8-bit prompts and decode are not both on here");
        Random rnd = new Random(SEED + 3);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(2));
        try (Arena arena = Arena.ofShared()) {
            for (TensorType type : new TensorType[]{QuantTypes.Q4_0, QuantTypes.Q6_K}) {
                int cols = type == QuantTypes.Q4_0 ? 1376 : 768, rows = 45, tokens = NativeQ8.MIN_TOKENS + 1;
                KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                CpuMatrix m = backend.load("w", type, rows, cols, c.segment(arena, true));
                ActivationBatch prompt = ActivationBatch.allocate(arena, tokens, cols);
                float[][] x = new float[tokens][];
                for (int t = 0; t < tokens; t++) {
                    x[t] = KernelCheck.scaledActivations(rnd, cols, true, t);
                    for (int i = 0; i < cols; i++) {
                        prompt.set(t, i, x[t][i]);
                    }
                }
                ActivationBatch promptOut = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(prompt, promptOut);
                for (int t = 0; t < tokens; t++) {
                    ActivationBatch one = ActivationBatch.allocate(arena, 1, cols);
                    for (int i = 0; i < cols; i++) {
                        one.set(0, i, x[t][i]);
                    }
                    ActivationBatch oneOut = ActivationBatch.allocate(arena, 1, rows);
                    m.matmul(one, oneOut);
                    int nb = cols / 32, perLane = type == QuantTypes.Q4_0 ? (nb + 15) / 16 : cols / 256;
                    for (int r = 0; r < rows; r++) {
                        double bound = (perLane + 6 + nb + 2) * 0x1p-24 * codesMagnitude(c.w()[r], x[t]) + nb * 0x1p-139;
                        double diff = Math.abs(oneOut.get(0, r) - promptOut.get(t, r));
                        assertTrue(diff <= bound, "seed " + (SEED + 3) + ", " + type.name() + " token " + t + " row " + r + ": alone "
                                + oneOut.get(0, r) + ", in the prompt " + promptOut.get(t, r) + ", bound " + bound);
                    }
                }
            }
        }
    }

    /** sum_j |d_x,j sum_{i in j} w_i q_i| with this test's own codes (the scale of both epilogue bounds). */
    private static double codesMagnitude(double[] w, float[] x) {
        double mag = 0;
        int[] q = new int[32];
        for (int j = 0; j < x.length / 32; j++) {
            float d = blockCodes(x, j, q);
            double block = 0;
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                block += w[i] * q[i - 32 * j];
            }
            mag += Math.abs(block * d);
        }
        return mag;
    }

    /** This test's own 8-bit codes of x's 32-block j into q (d = amax / 127, round to nearest, clamp to +-127); returns d. */
    private static float blockCodes(float[] x, int j, int[] q) {
        float amax = 0;
        for (int i = 32 * j; i < 32 * j + 32; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        float d = amax / 127f;
        float id = amax == 0 ? 0 : 1f / d;
        for (int i = 32 * j; i < 32 * j + 32; i++) {
            q[i - 32 * j] = (int) Math.max(-127, Math.min(127, Math.rint(x[i] * id)));
        }
        return d;
    }

    @Test
    void aNonFiniteActivationGivesNaN() {
        Random rnd = new Random(SEED + 2);
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : new TensorType[]{QuantTypes.Q4_0, QuantTypes.Q6_K}) {
                KernelCheck.Case c = KernelCheck.Case.random(type, 5, 512, rnd);
                float[] x = KernelCheck.scaledActivations(rnd, 512, true, 1);
                x[300] = Float.POSITIVE_INFINITY;
                for (boolean nativeLoop : new boolean[]{false, true}) {
                    MemorySegment y = arena.allocate(4L * 5);
                    Int8Gemv.gemv(type, c.segment(arena, true), type.rowBytes(512), 512, 0, 5, quantize(x, false), y, nativeLoop);
                    for (int r = 0; r < 5; r++) {
                        assertTrue(Float.isNaN(y.getAtIndex(ValueLayout.JAVA_FLOAT, r)), type.name() + " row " + r);
                    }
                }
            }
        }
    }

    /** The token's codes by the native quantizer where it loads (else Java), or by the Java one ({@code java}). */
    private static NativeQ8.Codes quantize(float[] x, boolean java) {
        byte[] codes = new byte[x.length];
        float[] scales = new float[x.length / 32];
        if (java) {
            NativeQ8.quantizeJava(MemorySegment.ofArray(x), 1, x.length, MemorySegment.ofArray(codes), MemorySegment.ofArray(scales));
            return new NativeQ8.Codes(codes, scales, 1, x.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            ActivationBatch b = ActivationBatch.allocate(arena, 1, x.length);
            for (int i = 0; i < x.length; i++) {
                b.set(0, i, x[i]);
            }
            NativeQ8.Codes a = NativeQ8.codes(b, null);
            return new NativeQ8.Codes(a.codes().clone(), a.scales().clone(), 1, x.length);
        }
    }

    /** Both float64 checks of the class comment for one row; the codes are this test's own. */
    private static void checkRow(TensorType type, double[] w, float[] x, float got, String ctx) {
        int cols = x.length, nb = cols / 32;
        int perLane = type == QuantTypes.Q4_0 ? (nb + 15) / 16 : cols / 256;
        double viaCodes = 0, codesMag = 0, exact = 0, productMag = 0, rounding = 0;
        int[] q = new int[32];
        for (int j = 0; j < nb; j++) {
            float d = blockCodes(x, j, q);
            double block = 0;
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                block += w[i] * q[i - 32 * j];
                exact += w[i] * x[i];
                productMag += Math.abs(w[i] * x[i]);
                rounding += Math.abs(w[i]) * d * (0.5 + 0x1p-16);
            }
            viaCodes += block * d;
            codesMag += Math.abs(block * d);
        }
        double epilogue = (perLane + 6) * 0x1p-24 * codesMag + nb * 0x1p-140;
        assertTrue(Math.abs(got - viaCodes) <= epilogue,
                ctx + ": got " + got + ", float64 of the codes " + viaCodes + ", bound " + epilogue);
        double bound = epilogue + rounding + (perLane + 6) * 0x1p-24 * productMag;
        assertTrue(Math.abs(got - exact) <= bound, ctx + ": got " + got + ", float64 " + exact + ", bound " + bound);
    }
}
