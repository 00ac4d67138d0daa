package io.flexq.plugin.cli;

import io.flexq.plugin.calib.Promotion;
import io.flexq.plugin.calib.PromotionAnalysis;
import io.flexq.plugin.calib.SensitivityAnalysis;
import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.HeadQuantizer;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.SizeBudget;
import io.flexq.plugin.quant.WeightError;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code flexq quantize --max-bytes SIZE}: spends the bytes between the FQ6 file and a size budget on the linear
 * layers that gain most from 8 bits. Each linear's Q8_0 encoding (of the source values, or of the smoothed ones) is
 * measured against its FQ6 form on the output KLD ({@link PromotionAnalysis}), and the layers with the best gain
 * per added byte are stored as Q8_0 while the exact file size stays within the budget ({@link Promotion}). Q8_0
 * linears run on the runtime's Q8_0 kernels (weights 8-bit, activations fp32), the others as before.
 */
final class PromotionStep {

    /** The wider type promoted linears are stored in. */
    static final TensorType WIDER = QuantTypes.Q8_0;

    /**
     * Calibration of the gains unless --calib-windows / --calib-ctx say otherwise: 4,096 positions, where the 27M
     * model's per-layer gains (1e-5 to 1e-4 nats) stand clear of the window-to-window noise (auto's 4 x 256 is for A6/A8).
     */
    static final int DEFAULT_WINDOWS = 8;
    static final int DEFAULT_CTX = 512;

    static final String MAX_BYTES_KEY = "flexq.max_bytes";
    static final String PROMOTED_TYPE_KEY = "flexq.promotion.type";
    static final String PROMOTION_KLD_KEY = "flexq.promotion.kld_fq6";
    static final String PROMOTION_TOKENS_KEY = "flexq.promotion.calibration_tokens";
    static final String PROMOTION_GAIN = "flexq.promotion_gain.";

    private PromotionStep() {
    }

    /**
     * Linears stored in {@link #WIDER} instead of FQ6, with their weight errors and the keys that record the choice.
     */
    record Promoted(Map<String, TensorEntry> tensors, Map<String, WeightError> errors, Map<String, Object> metadata,
                    Map<String, GgufType> metadataTypes) {
        static final Promoted NONE = new Promoted(Map.of(), Map.of(), Map.of(), Map.of());

        /** {@code head} with the promoted tensors among its replacements (the assembly's one replacement map). */
        HeadQuantizer.Result into(HeadQuantizer.Result head) {
            if (tensors.isEmpty()) {
                return head;
            }
            Map<String, TensorEntry> replaced = new LinkedHashMap<>(head.replaced());
            replaced.putAll(tensors);
            return new HeadQuantizer.Result(replaced, head.dropped(), head.tied(), head.headTensor(), head.errors(), head.notes());
        }
    }

    /** The outcome: the model to write, what was measured and chosen, and the budget. */
    record Outcome(QuantizedModel model, List<ModelQuantizer.Layer> layers, PromotionAnalysis.Result analysis, Promotion.Choice choice, long budget,
                   long fq6Bytes, Map<String, Long> added) {
    }

    /** What the analysis needs, checked: the budget in bytes, the FQ6 file's size with no layer promoted, the windows. */
    record Plan(SizeBudget spec, long budget, long fq6Bytes, List<int[]> windows) {
    }

    /** A plan, or why promotion under the budget cannot run (one sentence naming the flag, file or size). */
    sealed interface Planned {
        record Ready(Plan plan) implements Planned {
        }

        record Impossible(String reason) implements Planned {
        }
    }

    /**
     * Checks, cheapest first, that the budget can hold the FQ6 file, that the vocabulary has a BOS token and that the
     * text gives a window of at least two tokens; {@code tok} is asked for only after the budget check, and a
     * {@link io.flexq.runtime.cli.CommandException} or {@link io.flexq.runtime.model.ModelFormatException} from it (no
     * tokenizer found, or one that does not match the embedding) is a reason too. Nothing here throws
     * for these: the caller decides whether an impossible budget is an error ({@code --max-bytes} given) or a skip
     * (the default, {@link DefaultBudget}).
     */
    static Planned plan(ModelFile source, SizeBudget spec, Function<Promoted, QuantizedModel> assemble, Supplier<Tokenizer> tok,
                        QuantizePipeline.Calibration cal) throws IOException {
        long budget = spec.bytes(source);
        long fq6Bytes = Fq6File.size(assemble.apply(promoted(Set.of(), Map.of(), Map.of(), Map.of(), Double.NaN, 0, spec, budget)));
        if (fq6Bytes > budget) {
            return new Planned.Impossible("--max-bytes " + spec.text() + ": the budget is " + String.format(Locale.ROOT, "%,d", budget)
                    + " bytes, below the FQ6 file's own " + String.format(Locale.ROOT, "%,d", fq6Bytes) + " bytes with no layer promoted");
        }
        Tokenizer t;
        try {
            t = tok.get();
        } catch (io.flexq.runtime.cli.CommandException | io.flexq.runtime.model.ModelFormatException e) {
            return new Planned.Impossible("--max-bytes " + spec.text() + ": the calibration text needs a tokenizer: " + e.getMessage());
        }
        if (t.bos() < 0) {
            return new Planned.Impossible(source.path() + ": the vocabulary has no BOS token to start calibration windows with");
        }
        CalibrationText text = cal.textOrDefault();
        int ctx = QuantizePipeline.windowLength(source, cal.ctx());
        List<int[]> windows = SensitivityAnalysis.windows(t.encodeWithBos(text.content(), false), cal.windows(), ctx, t.bos());
        if (windows.isEmpty() || windows.getFirst().length < 2) {
            return new Planned.Impossible("--calib " + text.origin() + ": the text is too short to measure the promotions on");
        }
        return new Planned.Ready(new Plan(spec, budget, fq6Bytes, windows));
    }

    /**
     * @param assemble the file for a set of promotions (the caller's assembly with every other choice fixed)
     * @param analysed the model the analysis runs: as it will be written, all candidate linears FQ6
     */
    static Outcome run(ModelFile source, ModelFile base, List<ModelQuantizer.Layer> layers, Plan plan, Function<Promoted, QuantizedModel> assemble,
                       ModelFile analysed, Console console) {
        SizeBudget spec = plan.spec();
        long budget = plan.budget();
        Map<String, byte[]> wider = new LinkedHashMap<>();
        Map<String, TensorEntry> entries = new LinkedHashMap<>();
        Map<String, WeightError> errors = new LinkedHashMap<>();
        Map<String, Long> added = new LinkedHashMap<>();
        for (ModelQuantizer.Layer l : layers) {
            if (l.cols() % WIDER.blockSize() != 0) {
                continue;  // not a whole number of Q8_0 blocks per row: stays FQ6
            }
            TensorEntry t = base.tensor(l.name());
            float[] w = new float[Math.multiplyExact(l.rows(), l.cols())];
            for (int r = 0; r < l.rows(); r++) {
                t.type().dequantizeRow(t.data(), r, l.cols(), w, r * l.cols());
            }
            byte[] bytes = Quantizers.quantize(WIDER, w, l.rows(), l.cols());
            wider.put(l.name(), bytes);
            entries.put(l.name(), new TensorEntry(l.name(), WIDER, t.ne().clone(), MemorySegment.ofArray(bytes)));
            errors.put(l.name(), WeightError.of(w, WIDER, bytes, l.rows(), l.cols()));
            added.put(l.name(), bytes.length - (long) l.fq6().length);
        }
        List<int[]> windows = plan.windows();
        Backends backends = Backends.discover(QuantizePipeline.class.getClassLoader(), console::debug);
        PromotionAnalysis.Result r;
        try (ProgressBar bar = console.progress("promotion", windows.size() * (2 + wider.size()))) {
            r = PromotionAnalysis.run(source, analysed, WIDER, wider, backends, windows, (done, total, what) -> bar.set(done, what), console::debug);
        }
        PromotionAnalysis.Result result = r;
        Promotion.Choice choice;
        try {
            choice = Promotion.choose(r.gains(), added, budget,
                    set -> Fq6File.size(assemble.apply(promoted(set, entries, errors, result.gains(), result.baseKld(), result.positions(), spec, budget))));
        } catch (IllegalArgumentException e) {
            throw new CliException("--max-bytes " + spec.text() + ": " + e.getMessage());
        }
        QuantizedModel model = assemble.apply(promoted(choice.promoted(), entries, errors, r.gains(), r.baseKld(), r.positions(), spec, budget));
        return new Outcome(model, layers, r, choice, budget, plan.fq6Bytes(), added);
    }

    private static Promoted promoted(Set<String> set, Map<String, TensorEntry> entries, Map<String, WeightError> errors, Map<String, Double> gains,
                                     double baseKld, long positions, SizeBudget spec, long budget) {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        Map<String, WeightError> errs = new LinkedHashMap<>();
        for (String n : set) {
            tensors.put(n, entries.get(n));
            errs.put(n, errors.get(n));
        }
        Map<String, Object> v = new LinkedHashMap<>();
        Map<String, GgufType> t = new LinkedHashMap<>();
        v.put(MAX_BYTES_KEY, spec.text() + (spec instanceof SizeBudget.Bytes ? "" : " = " + budget));
        t.put(MAX_BYTES_KEY, GgufType.STRING);
        v.put(PROMOTED_TYPE_KEY, WIDER.name());
        t.put(PROMOTED_TYPE_KEY, GgufType.STRING);
        if (!gains.isEmpty()) {
            v.put(PROMOTION_KLD_KEY, (float) baseKld);
            t.put(PROMOTION_KLD_KEY, GgufType.FLOAT32);
            v.put(PROMOTION_TOKENS_KEY, positions);
            t.put(PROMOTION_TOKENS_KEY, GgufType.UINT32);
        }
        gains.forEach((n, g) -> {
            v.put(PROMOTION_GAIN + n, g.floatValue());
            t.put(PROMOTION_GAIN + n, GgufType.FLOAT32);
        });
        return new Promoted(tensors, errs, v, t);
    }

    /** The promoted layers and what they cost and bought. */
    static void summarize(PrintStream out, Outcome o) {
        if (o.analysis().gains().isEmpty()) {
            out.println("--max-bytes: no linear has rows of whole " + WIDER.name() + " blocks (" + WIDER.blockSize() + "): nothing to promote");
            return;
        }
        out.printf(Locale.ROOT, "--max-bytes: budget %,d bytes; FQ6 alone %,d; measured over %d calibration tokens, mean KLD of the FQ6 model %.6f%n",
                o.budget(), o.fq6Bytes(), o.analysis().positions(), o.analysis().baseKld());
        for (String n : o.choice().promoted()) {
            double gain = o.analysis().gains().get(n);
            out.printf(Locale.ROOT, "  %s -> %s: KLD gain %.6f, %+,d bytes (%.3g nats per MB)%n", n, WIDER.name(), gain, o.added().get(n),
                    gain / o.added().get(n) * 1e6);
        }
        out.printf(Locale.ROOT, "promoted %d of %d candidate linears to %s: measured gains sum to %.6f of the %.6f KLD (an additive, optimistic "
                        + "prediction), file %,d bytes%n", o.choice().promoted().size(), o.analysis().gains().size(), WIDER.name(),
                o.choice().predictedGain(), o.analysis().baseKld(), o.choice().fileBytes());
        long weights = 0, bytes = 0;
        for (ModelQuantizer.Layer l : o.layers()) {
            weights += (long) l.rows() * l.cols();
            bytes += l.fq6().length + (o.choice().promoted().contains(l.name()) ? o.added().get(l.name()) : 0);
        }
        out.printf(Locale.ROOT, "linear weights after promotion: %,d in %,d bytes = %.3f bits/weight%n", weights, bytes, 8.0 * bytes / weights);
    }
}
