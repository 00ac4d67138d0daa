package io.flexq.plugin.cli;

import io.flexq.plugin.calib.Budget;
import io.flexq.plugin.calib.Smoothing;
import io.flexq.plugin.fq6.ActivationCost;
import io.flexq.plugin.fq6.HeadFormat;
import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.Preset;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.SourceHash;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code flexq quantize IN OUT}: a Llama model (GGUF of any float or Q8_0/Q6_K types, llama2.c checkpoint,
 * safetensors) to an FQ6 file. Linear weights become INT6 (per-group clipping search unless --no-clip), each
 * linear layer gets an activation mode by preset, everything else is copied as it is.
 */
public final class QuantizeCommand implements Command {

    @Override
    public String name() {
        return "quantize";
    }

    @Override
    public String summary() {
        return "quantize a Llama model's linear weights to FQ6 (INT6, 128-groups) and choose A6/A8/A16 per layer";
    }

    @Override
    public String synopsis() {
        return "IN OUT";
    }

    @Override
    public String details() {
        return """
                IN: a GGUF (F32/F16/BF16/Q8_0/Q6_K tensors; Q6_K is dequantized and requantized, the added error is
                reported), a llama2.c checkpoint (.bin; its tokenizer.bin is embedded in OUT), or safetensors.
                Linear weights (blk.N.attn_q/k/v/output, ffn_gate/up/down) become FQ6; the token embedding and the
                output head become --head (default q8_0, chosen by measurement; fq6 runs the head through the FQ6
                kernels at A8, A16 under w6a16), and a tied head (no output.weight, or one identical to token_embd.weight) is stored once; norms keep
                their types. OUT is written under a temporary name and renamed when complete.

                Default preset: a8 when no --target path runs A6 faster than A8 (the measured cost table: the CPU
                integer kernels and Hopper's INT8-MMA path run both at the same speed), else auto, which then prints
                the predicted speed gain of its A6 layers next to their measured KLD cost.

                Presets: paper = A8 on ffn_down, A6 elsewhere (FlexQ's published LLaMA recipe); a8, a6 = all layers
                W6A8 / W6A6; w6a16 = weight-only; auto = sensitivity analysis: the calibration text is run through
                the all-A8 model and through the model with one layer at a time at A6; a layer's sensitivity score is
                the mean KL divergence of the next-token distribution it causes (stored as flexq.sensitivity.*). With
                --rank gain (default) the all-A6 model is run too, with one layer at a time back at A8, and a layer's
                A8 gain is the KLD that saves (flexq.a8_gain.*): the drop scores miss that the A6 errors of some layers
                (ffn_down) compound. A8 is kept on the highest-ranked layers under --budget (default a8=25%: a quarter
                of the linear layers; kld=X: fewest A8 layers whose predicted KLD vs all-A8 is <= X nats; both:
                kld=X,a8=P%). Cost of auto: 2 x (1 + layers) forward passes (1 x with --rank drop) over
                --calib-windows x --calib-ctx tokens.

                GPTQ (default where its cost is bounded: Hessians in half the heap, factorisations under a CPU-hours
                bound, e.g. the 27M model yes, an 8B no; --no-gptq turns it off, --gptq forces it):
                error compensation (Frantar et al. 2022) of the weights, same FQ6 format. The calibration
                text (--calib) is run through IN (--gptq-windows x --gptq-ctx tokens) to collect each layer input's
                Hessian H = 2/n X^T X; columns are then quantized in natural order, each 128-group's scale chosen from
                its error-updated weights (clipping search, or RTN with --no-clip), and every rounding error spread
                over the columns not yet quantized. Raises the weight error, lowers the layer output error
                (flexq.weight_quantizer = gptq+clip).

                --smooth ALPHA (off by default; needs GPTQ): SmoothQuant-style smoothing of the activations before
                GPTQ. From the same calibration pass, each linear input column j gets s_j = 2^round(log2(max|X_j|^ALPHA
                / max|W_j|^(1-ALPHA)) - mean), the input is divided by s_j (folded into the RMSNorm weight for q/k/v
                and gate/up, into v's rows for attn_output (shared by the query heads of a KV head), into up's rows
                for ffn_down) and the weight column multiplied by it: the same model in exact arithmetic, flatter
                activations for the 8/6-bit per-token quantizer. Same file format and kernels (flexq.smoothing.alpha
                records it). Measured on the 27M model: bench/results/quality-ref27M.md.

                --max-bytes SIZE (default q6_k where bounded, below): mixed precision under a file-size budget. SIZE is a byte count, or
                q6_k / q8_0 = the size of llama.cpp's file of that type for the same model (computed, no llama.cpp
                needed). Each linear's Q8_0 encoding is measured on the calibration text (--calib, --calib-windows x
                --calib-ctx tokens, default 8 x 512): the mean KLD against the unquantized model that storing only it as Q8_0 saves
                (flexq.promotion_gain.*); the layers with the best gain per added byte are stored as Q8_0 (CPU: the
                runtime's Q8_0 kernels, activations fp32) while the exact file size stays within SIZE. Cost: (2 +
                layers) forward passes per calibration window. Deterministic: ties go in forward order.
                Without --max-bytes, q6_k is applied where its analysis is bounded (estimated from the model's shape and
                --calib-windows x --calib-ctx: at most 1e14 FLOP, ~14 min on a 2-core machine, and the Q8_0 copies in half
                the heap; e.g. the 27M reference model yes, 1B and 8B shapes no) and possible (the budget holds the FQ6
                file, a tokenizer is found); one stderr line says whether it runs and why not. --max-bytes q6_k insists,
                --max-bytes none turns it off.
                """;
    }

    @Override
    public List<Flag> flags() {
        return List.of(
                Flag.value("preset", "NAME", "auto | paper | a8 | a6 | w6a16 (default: a8 where no --target gains from A6, else auto)"),
                Flag.value("target", "LIST", "kernel paths the file will run on, for the default preset and auto's speed estimate: "
                        + "cpu, cuda-sm90, btc (default " + String.join(",", ActivationCost.DEFAULT_TARGETS) + ")"),
                Flag.value("head", "FORMAT", "token embedding / output head: q8_0 | fq6 | q6_k | keep (default " + HeadFormat.DEFAULT.id()
                        + "; a tied head is stored once)"),
                Flag.value("calib", "FILE", "calibration text for GPTQ and auto (default: a public-domain text built into the jar)"),
                Flag.value("budget", "SPEC", "A8 budget for auto: a8=P% | a8=N | kld=X | kld=X,a8=P% (default " + Budget.DEFAULT_TEXT + ")"),
                Flag.value("calib-windows", "N", "calibration windows for auto (default " + QuantizePipeline.Calibration.DEFAULT_WINDOWS
                        + ") and --max-bytes (default " + PromotionStep.DEFAULT_WINDOWS + ")"),
                Flag.value("calib-ctx", "N", "tokens per calibration window (default " + QuantizePipeline.Calibration.DEFAULT_CTX + " for auto, "
                        + PromotionStep.DEFAULT_CTX + " for --max-bytes)"),
                Flag.value("rank", "gain|drop", "auto: rank layers for A8 by their A8 gain in the all-A6 model (default) or by drop score alone"),
                Flag.value("tokenizer", "FILE", "tokenizer of a llama2.c / safetensors model (default: found beside it)"),
                Flag.bool("no-clip", "plain round-to-nearest scales (absmax / 31) instead of the clipping search"),
                Flag.bool("gptq", "GPTQ error compensation of the weights, even when its Hessians exceed the memory bound (default: on "
                        + "when they fit in half the heap)"),
                Flag.bool("no-gptq", "no GPTQ: clipping search (or --no-clip RTN) only, no calibration pass"),
                Flag.value("gptq-windows", "N", "GPTQ calibration windows (default " + QuantizePipeline.GptqSettings.DEFAULT_WINDOWS + ")"),
                Flag.value("gptq-ctx", "N", "tokens per GPTQ calibration window (default " + QuantizePipeline.GptqSettings.DEFAULT_CTX
                        + ", at most the model's context)"),
                Flag.value("gptq-damp", "X", "GPTQ relative damping of the Hessian diagonal (default " + QuantizePipeline.GptqSettings.DEFAULT_DAMPING + ")"),
                Flag.value("max-bytes", "SIZE", "file-size budget: store the linears that gain most from 8 bits as Q8_0 while the file stays "
                        + "within SIZE bytes; q6_k / q8_0 = the size of llama.cpp's file of that type for the same model; none = no budget "
                        + "(default: q6_k where its analysis is bounded and the budget holds the FQ6 file, else none with a warning)"),
                Flag.value("smooth", "ALPHA", "activation smoothing before GPTQ (SmoothQuant-style, folded into the norms and v/up rows; "
                        + "ALPHA in [0, 1], the share of each channel's range moved into the weights; default off)"));
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.expectPositional(2, 2, synopsis());
        List<ActivationCost.Path> targets;
        HeadFormat head;
        Preset preset;
        try {
            targets = ActivationCost.paths(List.of(args.value("target", String.join(",", ActivationCost.DEFAULT_TARGETS)).split(",")));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--target: " + e.getMessage());
        }
        try {
            head = HeadFormat.of(args.value("head", HeadFormat.DEFAULT.id()));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--head: " + e.getMessage());
        }
        try {
            preset = args.has("preset") ? Preset.of(args.value("preset").orElseThrow()) : ActivationCost.defaultPreset(targets);
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--preset: " + e.getMessage());
        }
        Budget budget;
        try {
            budget = Budget.parse(args.value("budget", Budget.DEFAULT_TEXT));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--budget: " + e.getMessage());
        }
        if (args.has("gptq") && args.has("no-gptq")) {
            throw new CliException.Usage("--gptq and --no-gptq contradict each other");
        }
        boolean noGptq = args.has("no-gptq");
        if (noGptq) {
            for (String f : List.of("gptq-windows", "gptq-ctx", "gptq-damp")) {
                if (args.has(f)) {
                    throw new CliException.Usage("--" + f + " applies to GPTQ, which --no-gptq turns off");
                }
            }
        }
        MaxBytesFlag maxBytes;
        try {
            maxBytes = MaxBytesFlag.parse(args.value("max-bytes"));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--max-bytes: " + e.getMessage());
        }
        var gptqSettings = gptqSettings(args);
        OptionalDouble smooth = smoothing(args, noGptq);
        if (preset != Preset.AUTO) {
            List<String> autoOnly = new java.util.ArrayList<>(List.of("budget", "rank"));
            if (maxBytes instanceof MaxBytesFlag.None) {
                autoOnly.addAll(List.of("calib-windows", "calib-ctx"));
                if (noGptq) {
                    autoOnly.add("calib");
                }
            }
            for (String f : autoOnly) {
                if (args.has(f)) {
                    throw new CliException.Usage("--" + f + " applies to --preset auto" + (f.startsWith("calib") ? " or a --max-bytes budget" : "")
                            + " only (preset is " + preset.id() + (f.startsWith("calib") ? ", --max-bytes none" : "") + ")");
                }
            }
        }
        var cal = new QuantizePipeline.Calibration(args.value("calib").map(c -> Args.existingFile(c, "--calib")),
                args.intValue("calib-windows", QuantizePipeline.Calibration.DEFAULT_WINDOWS, 1, 100_000),
                args.intValue("calib-ctx", QuantizePipeline.Calibration.DEFAULT_CTX, 2, 1 << 20), budget,
                args.choice("rank", "gain", List.of("gain", "drop")).equals("gain"));
        var promotionCal = new QuantizePipeline.Calibration(cal.text(), args.intValue("calib-windows", PromotionStep.DEFAULT_WINDOWS, 1, 100_000),
                args.intValue("calib-ctx", PromotionStep.DEFAULT_CTX, 2, 1 << 20), budget, cal.rankByGain());
        boolean clip = !args.has("no-clip");
        Path in = Path.of(args.positional(0));
        Path out = Path.of(args.positional(1));
        if (Files.exists(in) && Files.exists(out) && Files.isSameFile(in, out)) {
            throw new CliException("OUT is the same file as IN (" + out + "); write the FQ6 file elsewhere");
        }
        AtomicOutput.checkWritable(out, "OUT");
        QuantizePipeline.fq6Type();

        try (ModelFile source = ModelLoading.open(args.positional(0), "IN")) {
            ModelQuantizer.linears(source); // architecture and tensor checks before any work
            boolean gptq = !noGptq && (args.has("gptq") || gptqByDefault(source, console));
            if (smooth.isPresent() && !gptq) {
                throw new CliException.Usage("--smooth needs GPTQ's calibration pass, which is off for this model (see the warning); pass --gptq");
            }
            Optional<Tokenizer> tok = tokenizerFor(source, args, preset, gptq || maxBytes instanceof MaxBytesFlag.Given);
            String sha = SourceHash.of(source.path());
            QuantizePipeline.Weights weights = gptq
                    ? QuantizePipeline.quantizeGptq(source, clip, tok.orElseThrow(), cal.textOrDefault(), gptqSettings, head, smooth, console)
                    : QuantizePipeline.quantizeAll(source, clip, head, console);
            QuantizePipeline.Modes modes = preset == Preset.AUTO
                    ? QuantizePipeline.measuredModes(weights.model(source), weights.layers(), weights.head(), tok.orElseThrow(), cal, console)
                    : QuantizePipeline.fixedModes(preset, weights.layers());
            Optional<Budget> autoBudget = preset == Preset.AUTO ? Optional.of(budget) : Optional.empty();
            var w = weights;
            var m = modes;
            Function<PromotionStep.Promoted, QuantizedModel> withPromoted =
                    p -> QuantizePipeline.assemble(source, w, head, preset, clip, m, autoBudget, sha, tok, out, console, p);
            Optional<PromotionStep.Plan> plan = promotionPlan(maxBytes, source, withPromoted, tok, args, promotionCal, console);
            Optional<PromotionStep.Outcome> promotion = Optional.empty();
            QuantizedModel model;
            if (plan.isEmpty()) {
                model = withPromoted.apply(PromotionStep.Promoted.NONE);
            } else {
                promotion = Optional.of(PromotionStep.run(source, weights.model(source), weights.layers(), plan.get(), withPromoted,
                        QuantizePipeline.runnable(weights.model(source), weights.layers(), weights.head(), modes.modes(), QuantizePipeline.headMode(preset)),
                        console));
                model = promotion.get().model();
            }
            Fq6File.write(model, out);
            if (promotion.isPresent() && Files.size(out) != promotion.get().choice().fileBytes()) {
                throw new IllegalStateException(out + ": wrote " + Files.size(out) + " bytes, the budget fit predicted " + promotion.get().choice().fileBytes());
            }
            summary(console.out(), source, weights.layers(), modes, preset, clip, gptq, out);
            promotion.ifPresent(o -> PromotionStep.summarize(console.out(), o));
            QuantizePipeline.summarizeHead(console.out(), weights.head(), preset);
            if (preset == Preset.AUTO) {
                QuantizePipeline.summarizeSpeed(console.out(), weights.layers(), modes, targets,
                        promotion.map(o -> o.choice().promoted()).orElse(java.util.Set.of()));
            }
        }
        return 0;
    }

    /**
     * The promotion to run, if any: {@code --max-bytes SIZE} must be possible (else an error); without the flag the
     * {@code q6_k} budget runs where {@link DefaultBudget} finds it bounded and {@link PromotionStep#plan} possible,
     * one stderr line saying which and why; {@code --max-bytes none} runs nothing.
     */
    private static Optional<PromotionStep.Plan> promotionPlan(MaxBytesFlag flag, ModelFile source, Function<PromotionStep.Promoted, QuantizedModel> assemble,
                                                              Optional<Tokenizer> tok, Args args, QuantizePipeline.Calibration cal, Console console)
            throws java.io.IOException {
        switch (flag) {
            case MaxBytesFlag.None n -> {
                return Optional.empty();
            }
            case MaxBytesFlag.Given g -> {
                return switch (PromotionStep.plan(source, g.spec(), assemble, tok::orElseThrow, cal)) {
                    case PromotionStep.Planned.Ready r -> Optional.of(r.plan());
                    case PromotionStep.Planned.Impossible i -> throw new CliException(i.reason());
                };
            }
            case MaxBytesFlag.Default d -> {
                String skipped = "default --max-bytes " + DefaultBudget.SPEC + " not applied, every linear stays FQ6 (--max-bytes "
                        + MaxBytesFlag.NONE + " silences this): ";
                Optional<String> unbounded = DefaultBudget.unboundedReason(source, cal.windows(), cal.ctx());
                if (unbounded.isPresent()) {
                    console.warning(skipped + unbounded.get() + "; pass --max-bytes " + DefaultBudget.SPEC + " to insist");
                    return Optional.empty();
                }
                Supplier<Tokenizer> lookup = () -> tok.orElseGet(() -> ModelLoading.tokenizer(source, args.value("tokenizer")));
                return switch (PromotionStep.plan(source, DefaultBudget.spec(), assemble, lookup, cal)) {
                    case PromotionStep.Planned.Impossible i -> {
                        console.warning(skipped + i.reason());
                        yield Optional.empty();
                    }
                    case PromotionStep.Planned.Ready r -> {
                        console.info(String.format(Locale.ROOT, "default --max-bytes %s (--max-bytes %s turns it off): budget %,d bytes, FQ6 alone %,d; "
                                        + "promotion analysis: %s", DefaultBudget.SPEC, MaxBytesFlag.NONE, r.plan().budget(), r.plan().fq6Bytes(),
                                DefaultBudget.describe(DefaultBudget.estimate(source, r.plan().windows().size(), cal.ctx()))));
                        yield Optional.of(r.plan());
                    }
                };
            }
        }
    }

    /** GPTQ is on by default where its cost is bounded; otherwise say why it is off. */
    private static boolean gptqByDefault(ModelFile source, Console console) {
        Optional<String> why = QuantizePipeline.gptqUnboundedReason(source);
        why.ifPresent(w -> console.warning("GPTQ off: " + w));
        return why.isEmpty();
    }

    /** --smooth ALPHA: a number in [0, 1]; it needs the calibration pass that GPTQ runs. */
    static OptionalDouble smoothing(Args args, boolean noGptq) {
        if (!args.has("smooth")) {
            return OptionalDouble.empty();
        }
        String text = args.value("smooth", "");
        if (noGptq) {
            throw new CliException.Usage("--smooth needs GPTQ's calibration pass, which --no-gptq turns off");
        }
        try {
            return OptionalDouble.of(Smoothing.checkAlpha(Double.parseDouble(text), "--smooth"));
        } catch (NumberFormatException e) {
            throw new CliException.Usage("--smooth: not a number: '" + text + "' (expected ALPHA in [0, 1], e.g. 0.3)");
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage(e.getMessage());
        }
    }

    /** The --gptq-* flags (shared with flexq quality). */
    static QuantizePipeline.GptqSettings gptqSettings(Args args) {
        double damp;
        try {
            damp = Double.parseDouble(args.value("gptq-damp", Double.toString(QuantizePipeline.GptqSettings.DEFAULT_DAMPING)));
        } catch (NumberFormatException e) {
            throw new CliException.Usage("--gptq-damp: not a number: " + args.value("gptq-damp", ""));
        }
        if (!(damp > 0 && damp < 1000)) {
            throw new CliException.Usage("--gptq-damp must be in (0, 1000), got " + damp);
        }
        return new QuantizePipeline.GptqSettings(
                args.intValue("gptq-windows", QuantizePipeline.GptqSettings.DEFAULT_WINDOWS, 1, 100_000),
                args.intValue("gptq-ctx", QuantizePipeline.GptqSettings.DEFAULT_CTX, 2, 1 << 20), damp);
    }

    /** Needed for auto (calibration text) and for sources without tokenizer keys (to embed it). */
    private static Optional<Tokenizer> tokenizerFor(ModelFile source, Args args, Preset preset, boolean gptq) {
        boolean needed = preset == Preset.AUTO || gptq || !source.metadata().has("tokenizer.ggml.model");
        return needed ? Optional.of(ModelLoading.tokenizer(source, args.value("tokenizer"))) : Optional.empty();
    }

    private static void summary(PrintStream out, ModelFile source, List<ModelQuantizer.Layer> layers, QuantizePipeline.Modes modes,
                                Preset preset, boolean clip, boolean gptq, Path output) throws java.io.IOException {
        int w = layers.stream().mapToInt(l -> l.name().length()).max().orElse(10);
        out.printf(Locale.ROOT, "%-" + w + "s  %-12s %-5s %-4s %12s %12s %12s %8s%n", "tensor", "shape", "from", "act", "sensitivity",
                "err RTN", gptq ? "err GPTQ" : clip ? "err clip" : "err", "clipped");
        long weights = 0, bytes = 0;
        int a8 = 0, a6 = 0, a16 = 0;
        for (ModelQuantizer.Layer l : layers) {
            ActivationMode m = modes.modes().get(l.name());
            Double s = modes.scores().get(l.name());
            out.printf(Locale.ROOT, "%-" + w + "s  %-12s %-5s %-4s %12s %12.4e %12.4e %7.1f%%%n", l.name(), l.cols() + "x" + l.rows(),
                    l.sourceType().name(), m, s == null ? "-" : String.format(Locale.ROOT, "%.4e", s),
                    l.rtnError().relativeFrobenius(), l.error().relativeFrobenius(), 100.0 * l.clippedGroups() / l.totalGroups());
            weights += (long) l.rows() * l.cols();
            bytes += l.fq6().length;
            switch (m) {
                case A8 -> a8++;
                case A6 -> a6++;
                case A16 -> a16++;
            }
        }
        out.println();
        out.printf(Locale.ROOT, "errors are relative Frobenius ||W - Q(W)|| / ||W|| against the source values%s%n",
                layers.stream().anyMatch(l -> l.sourceType().id() == 14) ? " (for Q6_K tensors: the error FQ6 adds to the Q6_K values)" : "");
        out.printf(Locale.ROOT, "preset %s: %d x A8, %d x A6, %d x A16 of %d linear layers%s%n", preset.id(), a8, a6, a16, layers.size(),
                modes.scores().isEmpty() ? "" : String.format(Locale.ROOT, " (sensitivity over %d calibration tokens of %s)",
                        modes.calibrationTokens(), modes.calibrationText().name()));
        out.printf(Locale.ROOT, "linear weights: %,d in %,d bytes = %.3f bits/weight (%d-groups, fp16 scales)%n", weights, bytes,
                8.0 * bytes / weights, Fq6Layout.GROUP);
        out.printf(Locale.ROOT, "wrote %s (%,d bytes; source %s, %,d bytes)%n", output, Files.size(output), source.path(),
                Files.isRegularFile(source.path()) ? Files.size(source.path()) : 0);
    }
}
