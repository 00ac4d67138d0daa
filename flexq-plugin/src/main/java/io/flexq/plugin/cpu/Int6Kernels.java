package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.FlexqWeights;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast CPU kernels of one INT6 weight matrix (Vector API): output rows in vector lanes, so no
 * horizontal reduction is ever needed, and integer products computed exactly in fp32 lanes.
 *
 * <h2>Layout (built once at load)</h2>
 * Rows are taken in blocks of {@code RB} = float lanes (16 with 512-bit vectors); the row count is padded
 * to whole <em>tasks</em> of two blocks with zero codes and zero scales. Codes are one signed byte each,
 * k-major inside a block and group, so one vector load gives code k of RB consecutive rows:
 * <pre>
 *   codes [((b * groups + g) * 128 + k) * RB + j] = wcode[b * RB + j][g * 128 + k]
 *   scales[(b * groups + g) * RB + j]             = sw[b * RB + j][g]
 * </pre>
 * One byte per weight keeps decode (memory-bound) traffic at a quarter of F32.
 *
 * <h2>Why W6A6 / W6A8 are exact</h2>
 * For each (block, group) the codes are widened to fp32 once into a scratch panel; activation codes
 * arrive as fp32 too. Every product {@code wcode * acode} is an integer of magnitude at most
 * {@code 32 * 128 = 2^12}, and every partial sum of a group at most {@code 128 * 2^12 = 2^19 < 2^24}, so
 * each fused multiply-add produces an exactly representable integer and nothing is ever rounded: the
 * lanes hold {@code P[t][r][g]} exactly, whatever the order of the terms. The epilogue is then done per
 * lane with the reference's operations ({@code y = y + P * (sw * sa)}, a multiply, a multiply, an add, no
 * fusion, groups in increasing order, from +0.0f), so outputs are bit-identical to
 * {@link IntegerReference#matmul}.
 *
 * <h2>W6A16</h2>
 * The panel holds {@code code * sw} (exact in fp32), multiplied by the fp32 activations with fused
 * multiply-adds into a per-group sum, added to the output per group: a different summation order from
 * the scalar reference, so outputs agree only within rounding.
 *
 * <h2>Loop nest (one task = two row blocks)</h2>
 * group g / widen two panels (2 x 128 x RB) / tokens in fours: for k in 0..127, two panel loads and four
 * broadcast activations feed eight independent FMA chains (2 blocks x 4 tokens) / epilogue. Leftover
 * tokens run one at a time with the k range split into two chains per block.
 */
final class Int6Kernels {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Rows per block: one row per float lane. */
    static final int RB = F.length();
    /** Bytes species with RB lanes, for widening codes; null where no such shape exists (RB < 8). */
    private static final VectorSpecies<Byte> BF = RB >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(RB * 8)) : null;
    private static final int G = 128;
    private static final int PANEL = G * RB;

    final int rows;
    final int cols;
    final int groups;
    final int padded;
    /** Work units: pairs of row blocks. */
    final int tasks;
    private final byte[] codes;
    private final float[] scales;

    Int6Kernels(FlexqWeights w) {
        this.rows = w.rows();
        this.cols = w.cols();
        this.groups = w.groups();
        this.padded = w.paddedCols();
        this.tasks = Math.ceilDiv(rows, 2 * RB);
        int blocks = 2 * tasks;
        this.codes = new byte[Math.multiplyExact(Math.multiplyExact(blocks, groups), PANEL)];
        this.scales = new float[blocks * groups * RB];
        for (int r = 0; r < rows; r++) {
            int b = r / RB, j = r % RB;
            for (int g = 0; g < groups; g++) {
                int base = (b * groups + g) * PANEL + j;
                for (int k = 0; k < G; k++) {
                    codes[base + k * RB] = (byte) w.code(r, g * G + k);
                }
                scales[(b * groups + g) * RB + j] = w.scale(r, g);
            }
        }
    }

    /** Bytes this form holds. */
    long residentBytes() {
        return (long) codes.length + 4L * scales.length;
    }

    static String vectorDescription() {
        return RB + " x fp32 lanes (" + F.vectorBitSize() + "-bit), exact integer products";
    }

    /** First row of task {@code task}'s first block. */
    int taskRow(int task) {
        return task * 2 * RB;
    }

    /**
     * W6A6 / W6A8 for tasks {@code [from, to)} and {@code tokens} tokens: {@code af[t * padded + k]} =
     * activation code as float, {@code sa[t * groups + g]}; writes {@code y[t * rows + r]}, and, if
     * {@code partials} is not null, {@code partials[(t * rows + r) * groups + g] = P[t][r][g]}.
     */
    void gemmInt(float[] af, float[] sa, int tokens, int from, int to, float[] y, int[] partials) {
        run(af, sa, tokens, from, to, y, 0, rows, partials, true);
    }

    /**
     * W6A6 / W6A8 like {@link #gemmInt}, keeping only output rows {@code [lo, hi)} of the tasks run:
     * {@code y[t * (hi - lo) + r - lo]} (a row's value does not depend on which rows are kept).
     */
    void gemmIntRows(float[] af, float[] sa, int tokens, int from, int to, float[] y, int lo, int hi) {
        run(af, sa, tokens, from, to, y, lo, hi, null, true);
    }

    /** W6A16 like {@link #gemmF32}, keeping output rows {@code [lo, hi)} as {@link #gemmIntRows} does. */
    void gemmF32Rows(float[] x, int tokens, int from, int to, float[] y, int lo, int hi) {
        run(x, null, tokens, from, to, y, lo, hi, null, false);
    }

    /** W6A16 for tasks {@code [from, to)}: {@code x[t * padded + k]} fp32 activations, padding zero. */
    void gemmF32(float[] x, int tokens, int from, int to, float[] y) {
        run(x, null, tokens, from, to, y, 0, rows, null, false);
    }

    /** The task holding output row {@code r}. */
    int taskOf(int r) {
        return r / (2 * RB);
    }

    private void run(float[] a, float[] sa, int tokens, int from, int to, float[] y, int lo, int hi, int[] partials, boolean integer) {
        float[] w0 = new float[PANEL];
        float[] w1 = new float[PANEL];
        float[] acc = new float[tokens * 2 * RB];
        float[] p = new float[8 * RB];
        for (int task = from; task < to; task++) {
            int b0 = 2 * task, b1 = b0 + 1;
            java.util.Arrays.fill(acc, 0f);
            for (int g = 0; g < groups; g++) {
                FloatVector sw0 = FloatVector.fromArray(F, scales, (b0 * groups + g) * RB);
                FloatVector sw1 = FloatVector.fromArray(F, scales, (b1 * groups + g) * RB);
                int aOff = g * G;
                if (tokens < 4 && BF != null) {
                    // decode: nothing to share between tokens, so widen codes in registers, not via a panel
                    for (int t = 0; t < tokens; t++) {
                        dot1Direct(b0, b1, g, integer ? null : sw0, integer ? null : sw1, a, t * padded + aOff, p);
                        epilogue(acc, t, p, 0, sw0, sw1, sa, g, integer);
                        if (partials != null) {
                            storePartials(task, t, g, p, 0, partials);
                        }
                    }
                    continue;
                }
                panel(b0, g, integer ? null : sw0, w0);
                panel(b1, g, integer ? null : sw1, w1);
                int t = 0;
                for (; t + 4 <= tokens; t += 4) {
                    dot4(w0, w1, a, t * padded + aOff, p);
                    for (int i = 0; i < 4; i++) {
                        epilogue(acc, t + i, p, i, sw0, sw1, sa, g, integer);
                        if (partials != null) {
                            storePartials(task, t + i, g, p, i, partials);
                        }
                    }
                }
                for (; t < tokens; t++) {
                    dot1(w0, w1, a, t * padded + aOff, p);
                    epilogue(acc, t, p, 0, sw0, sw1, sa, g, integer);
                    if (partials != null) {
                        storePartials(task, t, g, p, 0, partials);
                    }
                }
            }
            int r0 = Math.max(taskRow(task), lo);
            int r1 = Math.min(taskRow(task) + 2 * RB, hi);
            int stride = hi - lo;
            for (int t = 0; r0 < r1 && t < tokens; t++) {
                System.arraycopy(acc, t * 2 * RB + r0 - taskRow(task), y, t * stride + r0 - lo, r1 - r0);
            }
        }
    }

    /** Widens the codes of (block b, group g) to fp32 ({@code * sw} when sw is given: W6A16). */
    private void panel(int b, int g, FloatVector sw, float[] dst) {
        int base = (b * groups + g) * PANEL;
        if (BF == null) {
            for (int i = 0; i < PANEL; i++) {
                dst[i] = codes[base + i];
            }
            if (sw != null) {
                for (int i = 0; i < PANEL; i += RB) {
                    FloatVector.fromArray(F, dst, i).mul(sw).intoArray(dst, i);
                }
            }
            return;
        }
        for (int i = 0; i < PANEL; i += RB) {
            FloatVector v = (FloatVector) ByteVector.fromArray(BF, codes, base + i).convertShape(VectorOperators.B2F, F, 0);
            (sw == null ? v : v.mul(sw)).intoArray(dst, i);
        }
    }

    /** Tokens t..t+3 (activations at aOff, aOff + padded, ...): p[(blk * 4 + i) * RB ..] = group sums. */
    private void dot4(float[] w0, float[] w1, float[] a, int aOff, float[] p) {
        FloatVector p00 = FloatVector.zero(F), p01 = p00, p02 = p00, p03 = p00;
        FloatVector p10 = p00, p11 = p00, p12 = p00, p13 = p00;
        int o1 = aOff + padded, o2 = o1 + padded, o3 = o2 + padded;
        for (int k = 0; k < G; k++) {
            FloatVector x0 = FloatVector.fromArray(F, w0, k * RB);
            FloatVector x1 = FloatVector.fromArray(F, w1, k * RB);
            FloatVector a0 = FloatVector.broadcast(F, a[aOff + k]);
            FloatVector a1 = FloatVector.broadcast(F, a[o1 + k]);
            FloatVector a2 = FloatVector.broadcast(F, a[o2 + k]);
            FloatVector a3 = FloatVector.broadcast(F, a[o3 + k]);
            p00 = x0.fma(a0, p00);
            p01 = x0.fma(a1, p01);
            p02 = x0.fma(a2, p02);
            p03 = x0.fma(a3, p03);
            p10 = x1.fma(a0, p10);
            p11 = x1.fma(a1, p11);
            p12 = x1.fma(a2, p12);
            p13 = x1.fma(a3, p13);
        }
        p00.intoArray(p, 0);
        p01.intoArray(p, RB);
        p02.intoArray(p, 2 * RB);
        p03.intoArray(p, 3 * RB);
        p10.intoArray(p, 4 * RB);
        p11.intoArray(p, 5 * RB);
        p12.intoArray(p, 6 * RB);
        p13.intoArray(p, 7 * RB);
    }

    /** {@link #dot1} reading the codes straight from the layout (W6A16: times sw). */
    private void dot1Direct(int b0, int b1, int g, FloatVector sw0, FloatVector sw1, float[] a, int aOff, float[] p) {
        int c0 = (b0 * groups + g) * PANEL, c1 = (b1 * groups + g) * PANEL;
        FloatVector e0 = FloatVector.zero(F), o0 = e0, e1 = e0, o1 = e0;
        for (int k = 0; k < G; k += 2) {
            FloatVector ae = FloatVector.broadcast(F, a[aOff + k]);
            FloatVector ao = FloatVector.broadcast(F, a[aOff + k + 1]);
            FloatVector we0 = widen(c0 + k * RB), wo0 = widen(c0 + (k + 1) * RB);
            FloatVector we1 = widen(c1 + k * RB), wo1 = widen(c1 + (k + 1) * RB);
            if (sw0 != null) {
                we0 = we0.mul(sw0);
                wo0 = wo0.mul(sw0);
                we1 = we1.mul(sw1);
                wo1 = wo1.mul(sw1);
            }
            e0 = we0.fma(ae, e0);
            o0 = wo0.fma(ao, o0);
            e1 = we1.fma(ae, e1);
            o1 = wo1.fma(ao, o1);
        }
        e0.add(o0).intoArray(p, 0);
        e1.add(o1).intoArray(p, 4 * RB);
    }

    private FloatVector widen(int off) {
        return (FloatVector) ByteVector.fromArray(BF, codes, off).convertShape(VectorOperators.B2F, F, 0);
    }

    /** One token: two chains per block (even and odd k), summed at the end. */
    private void dot1(float[] w0, float[] w1, float[] a, int aOff, float[] p) {
        FloatVector e0 = FloatVector.zero(F), o0 = e0, e1 = e0, o1 = e0;
        for (int k = 0; k < G; k += 2) {
            FloatVector ae = FloatVector.broadcast(F, a[aOff + k]);
            FloatVector ao = FloatVector.broadcast(F, a[aOff + k + 1]);
            e0 = FloatVector.fromArray(F, w0, k * RB).fma(ae, e0);
            o0 = FloatVector.fromArray(F, w0, (k + 1) * RB).fma(ao, o0);
            e1 = FloatVector.fromArray(F, w1, k * RB).fma(ae, e1);
            o1 = FloatVector.fromArray(F, w1, (k + 1) * RB).fma(ao, o1);
        }
        e0.add(o0).intoArray(p, 0);
        e1.add(o1).intoArray(p, 4 * RB);
    }

    /**
     * Adds token t's group result (p at slot i for block 0, slot 4 + i for block 1) to its outputs:
     * {@code acc = acc + P * (sw * sa)} (integer modes) or {@code acc = acc + P} (W6A16).
     */
    private void epilogue(float[] acc, int t, float[] p, int i, FloatVector sw0, FloatVector sw1, float[] sa, int g, boolean integer) {
        int o = t * 2 * RB;
        FloatVector q0 = FloatVector.fromArray(F, p, i * RB);
        FloatVector q1 = FloatVector.fromArray(F, p, (4 + i) * RB);
        if (integer) {
            float s = sa[t * groups + g];
            q0 = q0.mul(sw0.mul(s));
            q1 = q1.mul(sw1.mul(s));
        }
        FloatVector.fromArray(F, acc, o).add(q0).intoArray(acc, o);
        FloatVector.fromArray(F, acc, o + RB).add(q1).intoArray(acc, o + RB);
    }

    /** Test path: the group sums just used by the epilogue, as ints (they are exact integers). */
    private void storePartials(int task, int t, int g, float[] p, int i, int[] partials) {
        int r0 = taskRow(task);
        for (int j = 0; j < 2 * RB && r0 + j < rows; j++) {
            float v = j < RB ? p[i * RB + j] : p[(4 + i) * RB + j - RB];
            partials[(t * rows + r0 + j) * groups + g] = (int) v;
        }
    }
}
