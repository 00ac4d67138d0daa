package io.flexq.plugin.eval;

/**
 * Next-token distribution arithmetic on raw logits, all in double so the float logits of two models can be
 * compared without the comparison adding error of its own.
 *
 * <pre>
 *   log p_i  = l_i - logZ,        logZ = m + ln sum_j exp(l_j - m),  m = max_j l_j
 *   NLL(t)   = logZ - l_t                                 (natural log, nats)
 *   KL(P||Q) = sum_i p_i (log p_i - log q_i)              P = reference, Q = model under test
 * </pre>
 * KL(reference || model) is the direction llama.cpp's {@code llama-perplexity --kl-divergence} reports.
 */
public final class LogProbs {

    private LogProbs() {
    }

    /** {@code ln sum_i exp(logits[i])} over the first {@code n} entries, shifted by the max for stability. */
    public static double logSumExp(float[] logits, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[i]);
        }
        if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) {
            throw new IllegalArgumentException("logits have no finite maximum (" + max + ")");
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return max + Math.log(sum);
    }

    /** Negative log-likelihood of {@code target} in nats. */
    public static double nll(float[] logits, int n, int target) {
        return logSumExp(logits, n) - logits[target];
    }

    /** KL(softmax(ref) || softmax(test)) in nats over the first {@code n} entries. */
    public static double kld(float[] ref, float[] test, int n) {
        double zr = logSumExp(ref, n);
        double zt = logSumExp(test, n);
        double kl = 0;
        for (int i = 0; i < n; i++) {
            double logP = ref[i] - zr;
            double logQ = test[i] - zt;
            double p = Math.exp(logP);
            if (p > 0) {
                kl += p * (logP - logQ);
            }
        }
        return kl;
    }

    /** Index of the largest logit; the lowest index wins a tie. */
    public static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
