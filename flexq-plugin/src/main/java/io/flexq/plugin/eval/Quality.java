package io.flexq.plugin.eval;

/**
 * The quality of one model on one token stream.
 *
 * @param ppl      perplexity exp(mean NLL) of the scored tokens
 * @param pplError standard error of ppl (delta method: ppl * stddev(NLL) / sqrt(n)), as llama.cpp prints "±"
 * @param kldMean  mean KL(reference || model) per scored token, nats; NaN without a reference
 * @param kldP99   99th percentile of the per-token KLD (linear interpolation between order statistics); NaN without a reference
 * @param top1     share of scored tokens whose argmax equals the reference's argmax, in [0, 1]; NaN without a reference
 * @param tokens   number of scored tokens
 */
public record Quality(double ppl, double pplError, double kldMean, double kldP99, double top1, long tokens) {

    public boolean hasReference() {
        return !Double.isNaN(kldMean);
    }

    /** One JSON object with keys ppl, kld_mean, kld_p99, top1, tokens (null where there is no reference). */
    public String toJson() {
        return "{\"ppl\": " + num(ppl) + ", \"kld_mean\": " + num(kldMean) + ", \"kld_p99\": " + num(kldP99)
                + ", \"top1\": " + num(top1) + ", \"tokens\": " + tokens + "}";
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
