package io.flexq.samples.subscale;

import io.flexq.plugin.quant.WeightQuantizer;

import java.util.stream.IntStream;

/**
 * Round-to-nearest INT6 with a joint search of the fp16 group scale {@code S} and the integer sub-scales {@code s_j}
 * of a {@link SubScaleLayout}. Deterministic (no randomness; rows are independent, so the thread count does not
 * matter).
 *
 * <pre>
 *   for alpha in 1.00, 0.99, ..., 0.80 (the production clipping grid):
 *       S     = fp16((alpha * groupAbsmax) / (31 * subMax))          (fp32 arithmetic, as FQ6's clipping search)
 *       s_j   = argmin over s in [subMin, subMax] of chunk j's  sum (w - q * fp32(S) * s)^2,
 *               q = clamp(roundHalfAwayFromZero(w / (fp32(S) * s)), -32, 31)   (ties keep the larger s)
 *   keep the alpha of least group error (ties keep the larger alpha)
 * </pre>
 *
 * Without sub-scales ({@code subBits = 0}) this is exactly FQ6's clipping search with the layout's group size (for
 * 128: the bytes of {@code WeightQuantizer.clipping()}). With a power-of-two {@code subMax} the plain group solution
 * ({@code s_j = subMax} for every chunk) is among the candidates, so a sub-scale layout is never worse than the plain
 * one on a group (as long as {@code S} is not an fp16 subnormal, where dividing by subMax loses bits).
 */
public final class SubScaleQuantizer {

    private static final float[] ALPHAS = WeightQuantizer.clipping().alphas();

    private SubScaleQuantizer() {
    }

    /** Quantizes a row-major {@code rows x cols} matrix; {@code cols} must be a multiple of the layout's group. */
    public static SubScaleWeights quantize(String name, float[] w, int rows, int cols, SubScaleLayout layout) {
        if (cols % layout.group() != 0 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " (" + w.length + " floats) does not fit layout "
                    + layout.describe());
        }
        int groups = cols / layout.group();
        int chunks = cols / layout.chunk();
        byte[] codes = new byte[rows * cols];
        short[] scales = new short[rows * groups];
        byte[] subs = new byte[rows * chunks];
        IntStream.range(0, rows).parallel().forEach(r -> {
            for (int g = 0; g < groups; g++) {
                group(name, r, w, r * cols + g * layout.group(), layout, codes, scales, r * groups + g, subs, r * chunks + g * (layout.group() / layout.chunk()));
            }
        });
        return new SubScaleWeights(layout, rows, cols, codes, scales, subs);
    }

    private static void group(String name, int r, float[] w, int from, SubScaleLayout layout, byte[] codes, short[] scales, int scaleAt,
                              byte[] subs, int subAt) {
        GroupChoice choice = choose(name, r, w, from, layout);
        scales[scaleAt] = choice.scale();
        float sw = Float.float16ToFloat(choice.scale());
        int c = layout.chunk();
        for (int j = 0; j < choice.subs().length; j++) {
            subs[subAt + j] = (byte) choice.subs()[j];
            float step = sw * choice.subs()[j];
            for (int k = from + j * c; k < from + (j + 1) * c; k++) {
                codes[k] = (byte) WeightQuantizer.weightCode(w[k], step);
            }
        }
    }

    /** A group's fp16 scale {@code S} and its chunks' sub-scales {@code s_j} (values, not stored nibbles). */
    record GroupChoice(short scale, int[] subs) {
    }

    /**
     * The search of the class comment on the {@code layout.group()} weights of {@code w} from {@code from} (row
     * {@code r}, for messages): the RTN path applies it to the original weights, {@link SubScaleGptq} to the
     * error-updated ones at the start of each group.
     */
    static GroupChoice choose(String name, int r, float[] w, int from, SubScaleLayout layout) {
        int n = layout.group();
        int c = layout.chunk();
        int perGroup = n / c;
        float absmax = 0;
        for (int k = from; k < from + n; k++) {
            if (!Float.isFinite(w[k])) {
                throw new IllegalArgumentException(name + ": weight at row " + r + ", column " + (k - from) + " of its group is " + w[k]);
            }
            absmax = Math.max(absmax, Math.abs(w[k]));
        }
        float divisor = 31f * layout.subMax();
        double best = Double.POSITIVE_INFINITY;
        short bestScale = 0;
        int[] bestSubs = new int[perGroup];
        int[] trySubs = new int[perGroup];
        for (float alpha : ALPHAS) {
            short h = Float.floatToFloat16((alpha * absmax) / divisor);
            float sw = Float.float16ToFloat(h);
            if (Float.isInfinite(sw)) {
                throw new IllegalArgumentException(name + ": row " + r + " has |w| up to " + absmax + ", beyond the fp16 scale range");
            }
            double err = 0;
            for (int j = 0; j < perGroup; j++) {
                int at = from + j * c;
                double chunkBest = Double.POSITIVE_INFINITY;
                int chunkS = layout.subMax();
                for (int s = layout.subMax(); s >= layout.subMin(); s--) {
                    double e = chunkError(w, at, c, sw * s);
                    if (e < chunkBest) {
                        chunkBest = e;
                        chunkS = s;
                    }
                }
                trySubs[j] = chunkS;
                err += chunkBest;
            }
            if (err < best) {
                best = err;
                bestScale = h;
                System.arraycopy(trySubs, 0, bestSubs, 0, perGroup);
            }
        }
        return new GroupChoice(bestScale, bestSubs);
    }

    private static double chunkError(float[] w, int from, int n, float step) {
        double err = 0;
        for (int k = from; k < from + n; k++) {
            double e = w[k] - (double) (WeightQuantizer.weightCode(w[k], step) * step);
            err += e * e;
        }
        return err;
    }
}
