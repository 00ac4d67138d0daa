package io.flexq.plugin.cli;

import io.flexq.plugin.calib.Budget;
import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.Preset;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.SourceHash;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

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
                Linear weights (blk.N.attn_q/k/v/output, ffn_gate/up/down) become FQ6; embeddings, norms and the
                output head keep their types. OUT is written under a temporary name and renamed when complete.

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

                --gptq: GPTQ error compensation (Frantar et al. 2022) of the weights, same FQ6 format. The calibration
                text (--calib) is run through IN (--gptq-windows x --gptq-ctx tokens) to collect each layer input's
                Hessian H = 2/n X^T X; columns are then quantized in natural order, each 128-group's scale chosen from
                its error-updated weights (clipping search, or RTN with --no-clip), and every rounding error spread
                over the columns not yet quantized. Raises the weight error, lowers the layer output error
                (flexq.weight_quantizer = gptq+clip).
                """;
    }

    @Override
    public List<Flag> flags() {
        return List.of(
                Flag.value("preset", "NAME", "auto | paper | a8 | a6 | w6a16 (default auto)"),
                Flag.value("calib", "FILE", "calibration text for auto (default: a public-domain text built into the jar)"),
                Flag.value("budget", "SPEC", "A8 budget for auto: a8=P% | a8=N | kld=X | kld=X,a8=P% (default " + Budget.DEFAULT_TEXT + ")"),
                Flag.value("calib-windows", "N", "calibration windows for auto (default " + QuantizePipeline.Calibration.DEFAULT_WINDOWS + ")"),
                Flag.value("calib-ctx", "N", "tokens per calibration window (default " + QuantizePipeline.Calibration.DEFAULT_CTX + ")"),
                Flag.value("rank", "gain|drop", "auto: rank layers for A8 by their A8 gain in the all-A6 model (default) or by drop score alone"),
                Flag.value("tokenizer", "FILE", "tokenizer of a llama2.c / safetensors model (default: found beside it)"),
                Flag.bool("no-clip", "plain round-to-nearest scales (absmax / 31) instead of the clipping search"),
                Flag.bool("gptq", "GPTQ error compensation of the weights (Hessians from --calib run through IN; same FQ6 format)"),
                Flag.value("gptq-windows", "N", "GPTQ calibration windows (default " + QuantizePipeline.GptqSettings.DEFAULT_WINDOWS + ")"),
                Flag.value("gptq-ctx", "N", "tokens per GPTQ calibration window (default " + QuantizePipeline.GptqSettings.DEFAULT_CTX
                        + ", at most the model's context)"),
                Flag.value("gptq-damp", "X", "GPTQ relative damping of the Hessian diagonal (default " + Gptq.DEFAULT_DAMPING + ")"));
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.expectPositional(2, 2, synopsis());
        Preset preset;
        try {
            preset = Preset.of(args.value("preset", "auto"));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--preset: " + e.getMessage());
        }
        Budget budget;
        try {
            budget = Budget.parse(args.value("budget", Budget.DEFAULT_TEXT));
        } catch (IllegalArgumentException e) {
            throw new CliException.Usage("--budget: " + e.getMessage());
        }
        boolean gptq = args.has("gptq");
        if (!gptq) {
            for (String f : List.of("gptq-windows", "gptq-ctx", "gptq-damp")) {
                if (args.has(f)) {
                    throw new CliException.Usage("--" + f + " applies to --gptq only");
                }
            }
        }
        var gptqSettings = gptqSettings(args);
        if (preset != Preset.AUTO) {
            for (String f : gptq ? List.of("budget", "calib-windows", "calib-ctx", "rank") : List.of("calib", "budget", "calib-windows", "calib-ctx", "rank")) {
                if (args.has(f)) {
                    throw new CliException.Usage("--" + f + " applies to --preset auto only (preset is " + preset.id() + ")");
                }
            }
        }
        var cal = new QuantizePipeline.Calibration(args.value("calib").map(c -> Args.existingFile(c, "--calib")),
                args.intValue("calib-windows", QuantizePipeline.Calibration.DEFAULT_WINDOWS, 1, 100_000),
                args.intValue("calib-ctx", QuantizePipeline.Calibration.DEFAULT_CTX, 2, 1 << 20), budget,
                args.choice("rank", "gain", List.of("gain", "drop")).equals("gain"));
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
            Optional<Tokenizer> tok = tokenizerFor(source, args, preset, gptq);
            String sha = SourceHash.of(source.path());
            List<ModelQuantizer.Layer> layers = gptq
                    ? QuantizePipeline.quantizeWeightsGptq(source, clip, tok.orElseThrow(), cal.textOrDefault(), gptqSettings, console)
                    : QuantizePipeline.quantizeWeights(source, clip, console);
            QuantizePipeline.Modes modes = preset == Preset.AUTO
                    ? QuantizePipeline.measuredModes(source, layers, tok.orElseThrow(), cal, console)
                    : QuantizePipeline.fixedModes(preset, layers);
            QuantizedModel model = QuantizePipeline.assemble(source, layers, preset, clip, gptq, modes,
                    preset == Preset.AUTO ? Optional.of(budget) : Optional.empty(), sha, tok, out, console);
            Fq6File.write(model, out);
            summary(console.out(), source, layers, modes, preset, clip, gptq, out);
        }
        return 0;
    }

    /** The --gptq-* flags (shared with flexq quality). */
    static QuantizePipeline.GptqSettings gptqSettings(Args args) {
        double damp;
        try {
            damp = Double.parseDouble(args.value("gptq-damp", Double.toString(Gptq.DEFAULT_DAMPING)));
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
