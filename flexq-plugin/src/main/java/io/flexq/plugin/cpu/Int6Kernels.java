package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast CPU kernels of one INT6 weight matrix, Vector API, for a range of output rows (callers split
 * rows over threads).
 *
 * <p>Layout, built once at load: one signed byte per code, rows padded to {@code groups * 128}
 * ({@code codes[r * padded + k]}), fp32 scales {@code scales[r * groups + g]}. One byte per weight keeps
 * decode (memory-bound) traffic at a quarter of F32, and a byte-to-short widening is one instruction.
 *
 * <p>W6A6 / W6A8, exact: codes are sign-extended to 16-bit lanes and multiplied lane-wise; each product
 * is at most {@code 32 * 128 = 4096} in magnitude, so a 16-bit lane can sum 4 of them exactly
 * ({@code |s| <= 16384}); those sums are widened to 32 bits before any further addition. With 32 short
 * lanes (512-bit vectors) one group of 128 is exactly 4 vectors, so each lane holds 4 products and the
 * group's partial is the 32-bit sum of the widened lanes: integer addition is associative, so
 * {@code P[t][r][g]} equals the reference bit for bit. The epilogue is the reference's, operation for
 * operation ({@code y = y + (float) P * (sw * sa)}, groups in order, from +0.0f; Java float arithmetic is
 * IEEE and never fused), so outputs are bit-identical to {@link IntegerReference#matmul} too.
 *
 * <p>W6A16: a group's codes are widened to float, multiplied by {@code sw} (exact) and accumulated
 * with fused multiply-adds into vector lanes; the summation order differs from the scalar reference,
 * so outputs agree with it only within floating-point rounding.
 */
final class Int6Kernels {

    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Byte> BF = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));

    /** 16-bit lane sums of at most this many products stay exact: 4 * 4096 = 16384 < 32767. */
    private static final int PRODUCTS_PER_SHORT_SUM = 4;

    final int rows;
    final int cols;
    final int groups;
    final int padded;
    private final byte[] codes;
    private final float[] scales;

    Int6Kernels(FlexqWeights w) {
        this.rows = w.rows();
        this.cols = w.cols();
        this.groups = w.groups();
        this.padded = w.paddedCols();
        this.codes = w.copyCodes();
        this.scales = w.copyScales();
    }

    /** Bytes this form holds. */
    long residentBytes() {
        return (long) codes.length + 4L * scales.length;
    }

    static String vectorDescription() {
        return L + " x int16 (" + S.vectorBitSize() + "-bit)";
    }

    /**
     * W6A6 / W6A8 for rows {@code [from, to)} and every token of {@code a}: {@code y[t * rows + r]},
     * and, if {@code partials} is not null, {@code partials[(t * rows + r) * groups + g] = P[t][r][g]}.
     */
    void gemmInt(QuantizedActivations a, int from, int to, float[] y, int[] partials) {
        if (L == 32) {
            gemmInt32(a, from, to, y, partials);
        } else {
            gemmIntGeneric(a, from, to, y, partials);
        }
    }

    /** 512-bit vectors: a group is 4 short vectors, held in registers across the token loop. */
    private void gemmInt32(QuantizedActivations a, int from, int to, float[] y, int[] partials) {
        byte[] ac = a.codesArray();
        float[] as = a.scalesArray();
        int tokens = a.tokens();
        float[] acc = new float[tokens];
        for (int r = from; r < to; r++) {
            java.util.Arrays.fill(acc, 0f);
            int wRow = r * padded;
            for (int g = 0; g < groups; g++) {
                int wOff = wRow + g * 128;
                ShortVector w0 = widen(codes, wOff);
                ShortVector w1 = widen(codes, wOff + 32);
                ShortVector w2 = widen(codes, wOff + 64);
                ShortVector w3 = widen(codes, wOff + 96);
                float sw = scales[r * groups + g];
                for (int t = 0; t < tokens; t++) {
                    int aOff = t * padded + g * 128;
                    ShortVector s = w0.mul(widen(ac, aOff))
                            .add(w1.mul(widen(ac, aOff + 32)))
                            .add(w2.mul(widen(ac, aOff + 64)))
                            .add(w3.mul(widen(ac, aOff + 96)));
                    int p = sumLanes(s);
                    acc[t] = acc[t] + (float) p * (sw * as[t * groups + g]);
                    if (partials != null) {
                        partials[(t * rows + r) * groups + g] = p;
                    }
                }
            }
            for (int t = 0; t < tokens; t++) {
                y[t * rows + r] = acc[t];
            }
        }
    }

    /** Any vector width: weights reloaded (from L1) per token, short sums flushed every 4 products. */
    private void gemmIntGeneric(QuantizedActivations a, int from, int to, float[] y, int[] partials) {
        byte[] ac = a.codesArray();
        float[] as = a.scalesArray();
        int tokens = a.tokens();
        for (int t = 0; t < tokens; t++) {
            for (int r = from; r < to; r++) {
                float acc = 0f;
                for (int g = 0; g < groups; g++) {
                    int p = groupDot(codes, r * padded + g * 128, ac, t * padded + g * 128);
                    acc = acc + (float) p * (scales[r * groups + g] * as[t * groups + g]);
                    if (partials != null) {
                        partials[(t * rows + r) * groups + g] = p;
                    }
                }
                y[t * rows + r] = acc;
            }
        }
    }

    private static int groupDot(byte[] w, int wOff, byte[] a, int aOff) {
        if (L > 32 || 128 % (PRODUCTS_PER_SHORT_SUM * L) != 0) {
            return scalarGroupDot(w, wOff, a, aOff);
        }
        IntVector sum = IntVector.zero(I);
        for (int v = 0; v < 128; v += PRODUCTS_PER_SHORT_SUM * L) {
            ShortVector s = ShortVector.zero(S);
            for (int u = 0; u < PRODUCTS_PER_SHORT_SUM; u++) {
                int o = v + u * L;
                s = s.add(widen(w, wOff + o).mul(widen(a, aOff + o)));
            }
            sum = sum.add(widenLow(s)).add(widenHigh(s));
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    private static int scalarGroupDot(byte[] w, int wOff, byte[] a, int aOff) {
        int sum = 0;
        for (int k = 0; k < 128; k++) {
            sum += w[wOff + k] * a[aOff + k];
        }
        return sum;
    }

    private static ShortVector widen(byte[] src, int off) {
        return (ShortVector) ByteVector.fromArray(B, src, off).convertShape(VectorOperators.B2S, S, 0);
    }

    private static IntVector widenLow(ShortVector s) {
        return (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
    }

    private static IntVector widenHigh(ShortVector s) {
        return (IntVector) s.convertShape(VectorOperators.S2I, I, 1);
    }

    /** 32-bit sum of the lanes of a vector of exact 16-bit sums. */
    private static int sumLanes(ShortVector s) {
        return widenLow(s).add(widenHigh(s)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * W6A16 for rows {@code [from, to)}: {@code x} holds {@code tokens} rows of {@code padded} floats
     * (padding zero); {@code y[t * rows + r]}.
     */
    void gemmF32(float[] x, int tokens, int from, int to, float[] y) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            for (int r = from; r < to; r++) {
                dot4(x, t, r, y);
            }
        }
        for (; t < tokens; t++) {
            for (int r = from; r < to; r++) {
                y[t * rows + r] = dot1(x, t * padded, r);
            }
        }
    }

    private float dot1(float[] x, int xOff, int r) {
        int n = F.length();
        FloatVector acc = FloatVector.zero(F);
        int wRow = r * padded;
        for (int g = 0; g < groups; g++) {
            FloatVector sw = FloatVector.broadcast(F, scales[r * groups + g]);
            int base = g * 128;
            for (int j = 0; j < 128; j += n) {
                FloatVector wv = dequant(wRow + base + j, sw);
                acc = wv.fma(FloatVector.fromArray(F, x, xOff + base + j), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Four tokens {@code t .. t+3} against row r: one weight load serves four accumulators. */
    private void dot4(float[] x, int t, int r, float[] y) {
        int n = F.length();
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int x0 = t * padded, x1 = x0 + padded, x2 = x1 + padded, x3 = x2 + padded;
        int wRow = r * padded;
        for (int g = 0; g < groups; g++) {
            FloatVector sw = FloatVector.broadcast(F, scales[r * groups + g]);
            int base = g * 128;
            for (int j = 0; j < 128; j += n) {
                int k = base + j;
                FloatVector wv = dequant(wRow + k, sw);
                acc0 = wv.fma(FloatVector.fromArray(F, x, x0 + k), acc0);
                acc1 = wv.fma(FloatVector.fromArray(F, x, x1 + k), acc1);
                acc2 = wv.fma(FloatVector.fromArray(F, x, x2 + k), acc2);
                acc3 = wv.fma(FloatVector.fromArray(F, x, x3 + k), acc3);
            }
        }
        y[t * rows + r] = acc0.reduceLanes(VectorOperators.ADD);
        y[(t + 1) * rows + r] = acc1.reduceLanes(VectorOperators.ADD);
        y[(t + 2) * rows + r] = acc2.reduceLanes(VectorOperators.ADD);
        y[(t + 3) * rows + r] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** {@code code * sw} for F.length() codes: exact in fp32 (6-bit code times an fp16 value). */
    private FloatVector dequant(int off, FloatVector sw) {
        return ((FloatVector) ByteVector.fromArray(BF, codes, off).convertShape(VectorOperators.B2F, F, 0)).mul(sw);
    }

}
