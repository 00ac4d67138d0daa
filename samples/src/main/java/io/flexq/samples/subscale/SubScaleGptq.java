package io.flexq.samples.subscale;

import io.flexq.plugin.quant.Gptq;

import java.util.stream.IntStream;

/**
 * GPTQ error compensation in a {@link SubScaleLayout} (issue 12 experiment): the column updates of the production
 * {@link Gptq} (same factor U of the damped {@code H^-1}, from {@link Gptq#inverseFactor}; natural column order; the
 * error of column k spread at once over the rest of its 128-group, lazily over the later groups), but each group's
 * fp16 scale {@code S} and its sub-scales {@code s_j} are chosen by {@link SubScaleQuantizer}'s search on the row as
 * it stands when the group starts, i.e. after the errors of all earlier groups were folded in; codes are then rounded
 * to the nearest multiple of {@code S * s_j} of the updated weight.
 *
 * <pre>
 *   for each group g (columns [from, from + 128)):
 *       (S, s_j) = SubScaleQuantizer.choose(x[from..from+128))                 (x: the row, updated)
 *       for k in the group:  q_k = round(x_k / (S * s_j(k)));  e_k = (x_k - q_k * S * s_j(k)) / U[k][k]
 *                            x_j -= e_k * U[k][j]     for j in (k, group end)
 *       x_j -= sum_b e_b * U[from + b][j]             for j >= group end, b in order
 * </pre>
 *
 * Deterministic: every row is updated by one thread in a fixed order (rows are independent), so the thread count
 * does not change a bit. For the plain layout {@code g128} this is the production GPTQ with the clipping search,
 * value for value (a test checks the bytes).
 */
public final class SubScaleGptq {

    private SubScaleGptq() {
    }

    /**
     * Quantizes a row-major {@code rows x cols} matrix against the Hessian {@code h} ({@code cols x cols},
     * row-major, e.g. {@code 2/n X^T X}) with relative damping {@code damping} (as {@link Gptq}).
     */
    public static SubScaleWeights quantize(String name, float[] w, int rows, int cols, SubScaleLayout layout, double[] h, double damping) {
        if (layout.group() != 128 || cols % 128 != 0 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " (" + w.length + " floats) does not fit GPTQ in layout "
                    + layout.describe() + " (128-weight groups, whole groups per row)");
        }
        if (!(damping > 0 && damping < 1e3)) {
            throw new IllegalArgumentException(name + ": GPTQ damping must be in (0, 1000), got " + damping);
        }
        float[] u = Gptq.inverseFactor(name, h, cols, damping);
        int groups = cols / 128;
        int chunks = cols / layout.chunk();
        byte[] codes = new byte[rows * cols];
        short[] scales = new short[rows * groups];
        byte[] subs = new byte[rows * chunks];
        IntStream.range(0, rows).parallel().forEach(r -> row(name, r, w, cols, u, layout, codes, scales, subs));
        return new SubScaleWeights(layout, rows, cols, codes, scales, subs);
    }

    private static void row(String name, int r, float[] w, int cols, float[] u, SubScaleLayout layout, byte[] codes, short[] scales, byte[] subs) {
        int n = layout.group();
        int c = layout.chunk();
        int groups = cols / n;
        int perGroup = n / c;
        float[] x = new float[cols];
        System.arraycopy(w, r * cols, x, 0, cols);
        float[] e = new float[n], steps = new float[n];
        for (int g = 0; g < groups; g++) {
            int from = g * n;
            int to = from + n;
            SubScaleQuantizer.GroupChoice choice = SubScaleQuantizer.choose(name, r, x, from, layout);
            scales[r * groups + g] = choice.scale();
            float sw = Float.float16ToFloat(choice.scale());
            for (int j = 0; j < perGroup; j++) {
                subs[r * (cols / c) + g * perGroup + j] = (byte) choice.subs()[j];
            }
            for (int k = from; k < to; k++) {
                steps[k - from] = sw * choice.subs()[(k - from) / c];
            }
            Gptq.roundGroup(x, from, to, steps, u, cols, codes, r * cols, e);
            if (to < cols) {
                Gptq.updateRest(e, from, n, u, cols, x);
            }
        }
    }
}
