package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;

/**
 * The reference every FlexQ backend must reproduce (docs/FQ6.md, sections 4 and 5), written as plain
 * scalar loops with no tricks, so it can be read against the spec line by line:
 *
 * <pre>
 *   P[t][r][g] = sum_{k in group g} wcode[r][k] * acode[t][k]                      (int32, exact)
 *   y[t][r]    = sum_{g = 0..groups-1, in order} (float) P[t][r][g] * (sw[r][g] * sa[t][g])   (fp32)
 * </pre>
 *
 * and, for W6A16, {@code y[t][r] = sum_k (wcode[r][k] * sw[r][k/128]) * x[t][k]} in fp32, k in order.
 * Slow on purpose; used by tests and conformance kits, never by a model.
 */
public final class IntegerReference {

    private IntegerReference() {
    }

    /** One partial, {@code P[t][r][g]}. */
    public static int partial(FlexqWeights w, QuantizedActivations a, int t, int r, int g) {
        int sum = 0;
        for (int k = g * 128; k < (g + 1) * 128; k++) {
            sum += w.code(r, k) * a.code(t, k);
        }
        return sum;
    }

    /** Every partial, index {@code (t * rows + r) * groups + g}. */
    public static int[] partials(FlexqWeights w, QuantizedActivations a) {
        check(w, a);
        int rows = w.rows(), groups = w.groups();
        int[] p = new int[Math.multiplyExact(Math.multiplyExact(a.tokens(), rows), groups)];
        for (int t = 0; t < a.tokens(); t++) {
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < groups; g++) {
                    p[(t * rows + r) * groups + g] = partial(w, a, t, r, g);
                }
            }
        }
        return p;
    }

    /** The epilogue of one output from its partials {@code p[pOff .. pOff + groups)}. */
    public static float epilogue(FlexqWeights w, QuantizedActivations a, int t, int r, int[] p, int pOff) {
        float y = 0f;
        for (int g = 0; g < w.groups(); g++) {
            float s = w.scale(r, g) * a.scale(t, g);
            y = y + (float) p[pOff + g] * s;
        }
        return y;
    }

    /** W6A6 / W6A8: {@code y[t * rows + r]}. */
    public static float[] matmul(FlexqWeights w, QuantizedActivations a) {
        int[] p = partials(w, a);
        int rows = w.rows(), groups = w.groups();
        float[] y = new float[a.tokens() * rows];
        for (int t = 0; t < a.tokens(); t++) {
            for (int r = 0; r < rows; r++) {
                y[t * rows + r] = epilogue(w, a, t, r, p, (t * rows + r) * groups);
            }
        }
        return y;
    }

    /** W6A16 on {@code tokens} row-major rows of {@code cols} floats: {@code y[t * rows + r]}. */
    public static float[] matmulW6A16(FlexqWeights w, float[] x, int tokens) {
        int rows = w.rows(), cols = w.cols();
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException("activations: " + tokens + " x " + cols + " does not fit " + x.length + " floats");
        }
        float[] y = new float[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                float acc = 0f;
                for (int k = 0; k < cols; k++) {
                    float wk = w.code(r, k) * w.scale(r, k / 128);
                    acc = acc + wk * x[t * cols + k];
                }
                y[t * rows + r] = acc;
            }
        }
        return y;
    }

    private static void check(FlexqWeights w, QuantizedActivations a) {
        if (w.cols() != a.cols()) {
            throw new IllegalArgumentException("weights have " + w.cols() + " columns, activations " + a.cols());
        }
    }
}
