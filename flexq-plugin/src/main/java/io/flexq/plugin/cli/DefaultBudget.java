package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.HeadQuantizer;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.SizeBudget;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;

import java.util.Locale;
import java.util.Optional;

/**
 * {@code flexq quantize} without {@code --max-bytes}: the {@code q6_k} budget ({@link PromotionStep}) is applied by
 * default where its analysis is bounded, as GPTQ is ({@link QuantizePipeline#gptqUnboundedReason}). On the 27M
 * reference model it is what makes the file smaller than llama.cpp's Q6_K file with a lower KLD on both test texts
 * (bench/results/quality-ref27M.md); on the 8B shape the analysis would take about a day, so it stays off there.
 *
 * <p>The rule: the analysis runs (2 + candidates) forward passes over windows x ctx calibration tokens, where the
 * candidates are the linears whose rows are whole Q8_0 blocks. Its work, counted as
 * {@code passes x (windows x ctx x 2 x matrix weights + windows x blocks x 4 x dim x ctx (ctx + 1) / 2)} FLOP (the
 * linears and the head, then causal attention's QK^T and PV), must stay under {@link #WORK_BOUND}, and the Q8_0 copies
 * of the candidates it holds on the heap under half the heap. Beyond either, or where no budget can be met (the FQ6
 * file is already larger than Q6_K's), the default skips with one stderr line and the file is the plain FQ6 one;
 * {@code --max-bytes q6_k} insists, {@code --max-bytes none} turns the default off.
 */
final class DefaultBudget {

    /** The budget applied when none is given. */
    static final String SPEC = "q6_k";

    static SizeBudget spec() {
        return SizeBudget.parse(SPEC);
    }

    /**
     * Analysis work allowed by default, in FLOP as {@link #estimate} counts them. The 27M model's analysis (1.40e13 by
     * this count) took 114 s on the project's 2-core box, {@link #MEASURED_RATE}; so the bound is about 14 minutes there.
     * The Llama-3.1-8B shape needs 1.4e16 (about 32 hours there) and does not pass, nor does Llama-3.2-1B (1.2e15).
     */
    static final double WORK_BOUND = 1e14;

    /** What the promotion analysis of {@code source} costs with {@code windows} windows of {@code ctx} tokens (at most). */
    record Estimate(int candidates, int windowLength, long tokenForwards, double flop, long widerBytes) {
    }

    static Estimate estimate(ModelFile source, int windows, int ctx) {
        int candidates = 0;
        long widerBytes = 0;
        double weights = 0;
        for (TensorEntry t : ModelQuantizer.linears(source)) {
            weights += (double) t.rows() * t.cols();
            if (t.cols() % PromotionStep.WIDER.blockSize() == 0) {
                candidates++;
                widerBytes += PromotionStep.WIDER.byteSize(t.cols(), t.rows());
            }
        }
        TensorEntry embedding = source.tensor(HeadQuantizer.EMBEDDING);
        weights += (double) embedding.rows() * embedding.cols();  // the head's matmul: vocab x dim, tied or not
        long blocks = source.metadata().has("llama.block_count") ? source.metadata().getLong("llama.block_count") : 0;
        int len = QuantizePipeline.windowLength(source, ctx);
        long passes = 2L + candidates;
        double perWindow = (double) len * 2 * weights + (double) blocks * 4 * embedding.cols() * len * (len + 1.0) / 2;
        return new Estimate(candidates, len, passes * windows * len, passes * windows * perWindow, widerBytes);
    }

    /** Why the default budget is not applied to {@code source} for its cost, if it is not. */
    static Optional<String> unboundedReason(ModelFile source, int windows, int ctx) {
        Estimate e = estimate(source, windows, ctx);
        long half = Runtime.getRuntime().maxMemory() / 2;
        if (e.flop() > WORK_BOUND) {
            return Optional.of(String.format(Locale.ROOT, "its analysis (%d windows x %d tokens x %d forward passes = %.3g FLOP) exceeds the default "
                    + "bound %.2g (about %s on a 2-core machine)", windows, e.windowLength(),
                    2 + e.candidates(), e.flop(), WORK_BOUND, duration(e.flop())));
        }
        if (e.widerBytes() > half) {
            return Optional.of(String.format(Locale.ROOT, "the Q8_0 copies of its %d linears need %.1f GiB, more than half the heap (%.1f GiB)",
                    e.candidates(), e.widerBytes() / 1073741824.0, half / 1073741824.0));
        }
        return Optional.empty();
    }

    /** The estimate as a sentence for the stderr line. */
    static String describe(Estimate e) {
        return String.format(Locale.ROOT, "%d candidate linears, %,d token-forwards, %.3g FLOP (default bound %.2g; about %s on a 2-core machine)",
                e.candidates(), e.tokenForwards(), e.flop(), WORK_BOUND, duration(e.flop()));
    }

    /** FLOP/s of the 27M model's analysis on the project's 2-core box (bench/results/quality-ref27M.md). */
    static final double MEASURED_RATE = 1.2e11;

    /** At {@link #MEASURED_RATE}. */
    static String duration(double flop) {
        double s = flop / MEASURED_RATE;
        return s < 120 ? String.format(Locale.ROOT, "%.0f s", s) : s < 7200 ? String.format(Locale.ROOT, "%.0f min", s / 60)
                : String.format(Locale.ROOT, "%.0f h", s / 3600);
    }

    private DefaultBudget() {
    }
}
