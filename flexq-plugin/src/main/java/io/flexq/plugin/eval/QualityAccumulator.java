package io.flexq.plugin.eval;

import java.util.Arrays;

/**
 * Accumulates, over scored positions, the model's negative log-likelihood of the actual next token and,
 * when a reference model's logits are given for the same position, the KL divergence and top-1 agreement.
 * Everything is accumulated in double; per-token KLDs are kept for the percentile.
 */
public final class QualityAccumulator {

    private double nllSum;
    private double nllSquares;
    private long count;
    private double[] klds = new double[1024];
    private int kldCount;
    private long agree;

    /**
     * Adds one scored position.
     *
     * @param logits the model's logits at this position (first {@code vocab} entries used)
     * @param ref    the reference model's logits at the same position, or null
     * @param target the actual next token
     */
    public void add(float[] logits, float[] ref, int vocab, int target) {
        if (target < 0 || target >= vocab) {
            throw new IllegalArgumentException("target token " + target + " outside vocabulary of " + vocab);
        }
        double nll = LogProbs.nll(logits, vocab, target);
        nllSum += nll;
        nllSquares += nll * nll;
        count++;
        if (ref != null) {
            if (kldCount == klds.length) {
                klds = Arrays.copyOf(klds, klds.length * 2);
            }
            klds[kldCount++] = LogProbs.kld(ref, logits, vocab);
            if (LogProbs.argmax(ref, vocab) == LogProbs.argmax(logits, vocab)) {
                agree++;
            }
        }
    }

    public long count() {
        return count;
    }

    public Quality result() {
        if (count == 0) {
            throw new IllegalStateException("no token was scored (text shorter than one window?)");
        }
        double mean = nllSum / count;
        double ppl = Math.exp(mean);
        double variance = count > 1 ? Math.max(0, (nllSquares / count - mean * mean) * count / (count - 1)) : 0;
        double pplError = ppl * Math.sqrt(variance / count);
        if (kldCount == 0) {
            return new Quality(ppl, pplError, Double.NaN, Double.NaN, Double.NaN, count);
        }
        if (kldCount != count) {
            throw new IllegalStateException("reference logits were given for " + kldCount + " of " + count + " positions");
        }
        double[] sorted = Arrays.copyOf(klds, kldCount);
        Arrays.sort(sorted);
        double kldSum = 0;
        for (double k : sorted) {
            kldSum += k;
        }
        return new Quality(ppl, pplError, kldSum / kldCount, percentile(sorted, 0.99), (double) agree / count, count);
    }

    /**
     * The q-quantile of ascending {@code sorted} values by linear interpolation between order statistics:
     * h = q (n - 1), value = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
     */
    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double h = q * (sorted.length - 1);
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
