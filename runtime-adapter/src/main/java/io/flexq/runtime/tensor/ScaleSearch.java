package io.flexq.runtime.tensor;

/**
 * Least-squares scale search for one small group of values quantized as {@code x ~ s * q} with integer codes
 * q in [qmin, qmax] (the idea behind llama.cpp's make_qx_quants; this is an independent implementation).
 *
 * <p>For a fixed code vector q, the best scale is the least-squares one, {@code s* = <x,q> / <q,q>}, and the
 * squared error is then {@code |x|^2 - <x,q>^2 / <q,q>}: maximising {@code <x,q>^2 / <q,q>} minimises the error.
 * Codes come from rounding {@code x * t / m}, where m is the element of largest magnitude (signed) and t runs
 * over a grid of targets for m on both sides of zero ({@code ±(|qmin| - 5) .. ±(|qmin| + 1)} in half steps):
 * a target past the code range clips m, which can pay when m is an outlier. The best candidate is then refined
 * by re-rounding with its own least-squares scale until that stops helping (at most a few rounds).
 */
final class ScaleSearch {

    private ScaleSearch() {
    }

    /** The scale s (signed, 0 for an all-zero group) for {@code x[off .. off + n)}. */
    static float bestScale(float[] x, int off, int n, int qmin, int qmax) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            if (Math.abs(x[off + i]) > Math.abs(m)) {
                m = x[off + i];
            }
        }
        if (m == 0) {
            return 0;
        }
        int top = -qmin;
        double bestScore = -1;
        float best = 0;
        for (double a = top - 5; a <= top + 1 + 1e-9; a += 0.5) {
            for (int sign = -1; sign <= 1; sign += 2) {
                float inv = (float) (sign * a / m);
                double sxq = 0;
                double sqq = 0;
                for (int i = 0; i < n; i++) {
                    int q = clampRound(x[off + i] * inv, qmin, qmax);
                    sxq += (double) x[off + i] * q;
                    sqq += (double) q * q;
                }
                if (sqq > 0 && sxq * sxq / sqq > bestScore) {
                    bestScore = sxq * sxq / sqq;
                    best = (float) (sxq / sqq);
                }
            }
        }
        for (int round = 0; round < 4; round++) {
            float inv = 1 / best;
            double sxq = 0;
            double sqq = 0;
            for (int i = 0; i < n; i++) {
                int q = clampRound(x[off + i] * inv, qmin, qmax);
                sxq += (double) x[off + i] * q;
                sqq += (double) q * q;
            }
            if (sqq == 0 || sxq * sxq / sqq <= bestScore) {
                break;
            }
            bestScore = sxq * sxq / sqq;
            best = (float) (sxq / sqq);
        }
        return best;
    }

    static int clampRound(float v, int lo, int hi) {
        return (int) Math.max(lo, Math.min(hi, Math.rint(v)));
    }
}
