package io.flexq.samples.subscale;

import io.flexq.plugin.quant.QuantizedActivations;

/**
 * The FQ6 integer contract (docs/FQ6.md, sections 4-5) with sub-scales, as scalar loops: what a kernel would compute
 * if each 32- (or 16-) weight k-step kept its own int32 sum and folded it into the group's partial with one integer
 * multiply-add by its sub-scale.
 *
 * <pre>
 *   C[t][r][j] = sum_{k in chunk j} q[r][k] * acode[t][k]                   (|C| <= chunk * 32 * 128)
 *   P[t][r][g] = sum_{j in group g} s[r][j] * C[t][r][j]                    (int32; |P| <= 2^19 * subMax)
 *   y[t][r]    = sum_{g in order} (float) P[t][r][g] * (S[r][g] * sa[t][g])  (fp32, as today)
 * </pre>
 *
 * Only for 128-weight groups (the activation groups), where the epilogue is FQ6's.
 */
public final class SubScalePartials {

    private SubScalePartials() {
    }

    public static int partial(SubScaleWeights w, QuantizedActivations a, int t, int r, int g) {
        SubScaleLayout l = w.layout();
        if (l.group() != 128) {
            throw new IllegalArgumentException(l.describe() + ": the integer contract needs 128-weight groups");
        }
        int perGroup = l.group() / l.chunk();
        int p = 0;
        for (int j = g * perGroup; j < (g + 1) * perGroup; j++) {
            int chunkSum = 0;
            for (int k = j * l.chunk(); k < (j + 1) * l.chunk(); k++) {
                chunkSum += w.codes()[r * w.cols() + k] * a.code(t, k);
            }
            p = Math.addExact(p, Math.multiplyExact(w.subs()[r * w.chunks() + j], chunkSum));
        }
        return p;
    }

    /** The epilogue of FQ6, unchanged: {@code y = sum_g (float) P * (S * sa)} in group order. */
    public static float output(SubScaleWeights w, QuantizedActivations a, int t, int r) {
        float y = 0f;
        for (int g = 0; g < w.groups(); g++) {
            float s = Float.float16ToFloat(w.scales()[r * w.groups() + g]) * a.scale(t, g);
            y = y + (float) partial(w, a, t, r, g) * s;
        }
        return y;
    }
}
