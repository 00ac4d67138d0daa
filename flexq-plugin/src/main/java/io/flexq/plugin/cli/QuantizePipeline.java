package io.flexq.plugin.cli;

import io.flexq.plugin.calib.A8Selection;
import io.flexq.plugin.calib.Budget;
import io.flexq.plugin.calib.GptqModelQuantizer;
import io.flexq.plugin.calib.HessianCollector;
import io.flexq.plugin.calib.SensitivityAnalysis;
import io.flexq.plugin.calib.Smoothing;
import io.flexq.plugin.fq6.ActivationCost;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.fq6.HeadFormat;
import io.flexq.plugin.fq6.HeadQuantizer;
import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.Preset;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.TokenizerKeys;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tokenizer.SentencePieceTokenizer;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The steps of {@code flexq quantize}, usable one at a time (the quality tables reuse the quantized weights
 * for every preset): quantize the linear weights, choose activation modes (fixed by preset, or measured), and
 * assemble the output model with its metadata.
 */
final class QuantizePipeline {

    private QuantizePipeline() {
    }

    /** Calibration settings of the {@code auto} preset. */
    record Calibration(Optional<Path> text, int windows, int ctx, Budget budget, boolean rankByGain) {
        static final int DEFAULT_WINDOWS = 4;
        static final int DEFAULT_CTX = 256;

        /** The --calib file, else the text built into the jar ({@link CalibrationText#builtIn()}). */
        CalibrationText textOrDefault() throws IOException {
            return text.isPresent() ? CalibrationText.of(text.get()) : CalibrationText.builtIn();
        }
    }

    /** Modes, and the scores behind them when measured. */
    record Modes(Map<String, ActivationMode> modes, Map<String, Double> scores, Map<String, Double> gains, double allA6,
                 long calibrationTokens, CalibrationText calibrationText) {
    }

    static List<ModelQuantizer.Layer> quantizeWeights(ModelFile source, boolean clip, Console console) {
        int total = ModelQuantizer.linears(source).size();
        try (ProgressBar bar = console.progress("quantize", total)) {
            return ModelQuantizer.quantize(source, clip ? WeightQuantizer.clipping() : WeightQuantizer.rtn(), (done, name) -> bar.set(done, name));
        }
    }

    /** GPTQ settings: calibration windows of the reference model that give each layer's input Hessian. */
    record GptqSettings(int windows, int ctx, double damping) {
        static final int DEFAULT_WINDOWS = 64;
        static final int DEFAULT_CTX = 512;
        /**
         * Ten times the paper's {@link Gptq#DEFAULT_DAMPING}: on the 27M model (bench/results/quality-ref27M.md) 0.1
         * gave a lower KLD than 0.01 on both test texts with either calibration text, and 0.3 a higher one; a
         * stronger pull towards plain rounding keeps GPTQ from fitting the calibration text's input statistics too closely.
         */
        static final double DEFAULT_DAMPING = 0.1;
    }

    /**
     * The linear weights quantized with GPTQ (group scales by the clipping search or RTN): the Hessians come from
     * {@code settings.windows()} windows of the calibration text run through the unquantized model.
     */
    static List<ModelQuantizer.Layer> quantizeWeightsGptq(ModelFile source, boolean clip, Tokenizer tok, CalibrationText calibText, GptqSettings settings,
                                                         Console console) throws IOException {
        return quantizeGptq(source, clip, tok, calibText, settings, HeadFormat.KEEP, console).layers();
    }

    /**
     * Quantized linear layers and the embedding/head as the file stores them; with {@code smoothing}, the layers are
     * those of the smoothed model, whose norms the file must store too ({@link #model}).
     */
    record Weights(List<ModelQuantizer.Layer> layers, HeadQuantizer.Result head, boolean gptq, Optional<Smoothing.Result> smoothing,
                   OptionalDouble alpha) {
        Weights(List<ModelQuantizer.Layer> layers, HeadQuantizer.Result head, boolean gptq) {
            this(layers, head, gptq, Optional.empty(), OptionalDouble.empty());
        }

        /** The model the layers belong to: {@code source}, or the smoothed one. */
        ModelFile model(ModelFile source) {
            return smoothing.<ModelFile>map(r -> r.applyTo(source)).orElse(source);
        }
    }

    /** Clipping (or RTN) weights for the linears and the embedding/head in {@code head}'s format. */
    static Weights quantizeAll(ModelFile source, boolean clip, HeadFormat head, Console console) {
        List<ModelQuantizer.Layer> layers = quantizeWeights(source, clip, console);
        HeadQuantizer.Result h = HeadQuantizer.quantize(source, head, clip ? WeightQuantizer.clipping() : WeightQuantizer.rtn(),
                Optional.empty(), fq6Type());
        return new Weights(layers, h, false);
    }

    /** Tokens per calibration window: the requested length, at most the model's context. */
    static int windowLength(ModelFile source, int requested) {
        return Math.min(requested, source.metadata().getInt("llama.context_length", requested));
    }

    /** GPTQ weights for the linears and, when the head is FQ6, for the head (against the final norm's output). */
    static Weights quantizeGptq(ModelFile source, boolean clip, Tokenizer tok, CalibrationText calibText, GptqSettings settings, HeadFormat head,
                                Console console) throws IOException {
        return quantizeGptq(source, clip, tok, calibText, settings, head, OptionalDouble.empty(), console);
    }

    /**
     * As above; with {@code smooth} (alpha), the activation smoothing ({@link Smoothing}) is planned from the same
     * calibration pass (each input column's largest |x|), folded into the weights, and GPTQ runs on the smoothed
     * weights against the correspondingly rescaled Hessians.
     */
    static Weights quantizeGptq(ModelFile source, boolean clip, Tokenizer tok, CalibrationText calibText, GptqSettings settings, HeadFormat head,
                                OptionalDouble smooth, Console console) throws IOException {
        if (tok.bos() < 0) {
            throw new CliException(source.path() + ": the vocabulary has no BOS token to start calibration windows with");
        }
        int[] tokens = tok.encodeWithBos(calibText.content(), false);
        int ctx = windowLength(source, settings.ctx());
        List<int[]> windows = SensitivityAnalysis.windows(tokens, settings.windows(), ctx, tok.bos());
        if (windows.isEmpty() || windows.getFirst().length < 2) {
            throw new CliException("--calib " + calibText.origin() + ": the text is too short to calibrate GPTQ on (" + tokens.length + " tokens)");
        }
        ModelQuantizer.checkFinite(source);
        Backends backends = Backends.discover(QuantizePipeline.class.getClassLoader(), console::debug);
        HessianCollector hessians;
        try (ProgressBar bar = console.progress("gptq calibration", windows.size())) {
            hessians = HessianCollector.collect(source, backends, windows, console::debug, done -> bar.set(done, null));
        } catch (IllegalArgumentException e) {
            throw new CliException(source.path() + ": GPTQ calibration failed: " + e.getMessage());
        }
        WeightQuantizer scales = clip ? WeightQuantizer.clipping() : WeightQuantizer.rtn();
        Gptq gptq = new Gptq(scales, settings.damping());
        int total = ModelQuantizer.linears(source).size();
        List<ModelQuantizer.Layer> layers;
        Optional<Smoothing.Result> smoothing = Optional.empty();
        ModelFile base = source;
        if (smooth.isPresent()) {
            HessianCollector stats = hessians;
            Smoothing.Result r = Smoothing.plan(source, key -> stats.inputs().get(key).absMax(), smooth.getAsDouble());
            console.debug(Smoothing.describe(r));
            smoothing = Optional.of(r);
            base = r.applyTo(source);
        }
        try (ProgressBar bar = console.progress("gptq", total)) {
            layers = smoothing.isPresent()
                    ? GptqModelQuantizer.quantize(base, gptq, hessians, smoothing.get()::transformHessian, (done, name) -> bar.set(done, name))
                    : GptqModelQuantizer.quantize(base, gptq, hessians, (done, name) -> bar.set(done, name));
        }
        Optional<HeadQuantizer.HeadGptq> headGptq = hessians.headHessian().filter(a -> a.tokens() > 0)
                .map(a -> new HeadQuantizer.HeadGptq(gptq, a.hessian()));
        HeadQuantizer.Result h = HeadQuantizer.quantize(source, head, scales, headGptq, fq6Type());
        return new Weights(layers, h, true, smoothing, smooth);
    }

    /**
     * Factorisation work GPTQ may take by default, in units of K^3 summed over the distinct layer inputs (one
     * Cholesky and one triangular inverse each). GptqCost measured ~28 CPU seconds for K = 4096 (6.9e10 units) on
     * the project's 2-core box, so this bound is about 15 CPU minutes there: the 27M model needs 3.2e10 units,
     * Llama-3.2-1B 9e12 would not pass, the 8B shape (1.0e14, ~11 CPU hours) is far out (bench/results/quality-ref27M.md).
     */
    static final double GPTQ_DEFAULT_WORK = 2e12;

    /**
     * Why GPTQ does not run by default on {@code source}, if it does not: its cost must be bounded. The collector
     * holds one K x K double Hessian per distinct layer input at once (q/k/v share one, gate/up one; attn_output,
     * ffn_down and the head have their own), so they must fit in half the heap; and the factorisations (~K^3 each)
     * must stay under {@link #GPTQ_DEFAULT_WORK}. The rest of the cost is the calibration forward passes (windows x
     * ctx tokens through the unquantized model).
     */
    static Optional<String> gptqUnboundedReason(ModelFile source) {
        long bytes = gptqHessianBytes(source);
        long limit = Runtime.getRuntime().maxMemory() / 2;
        if (bytes > limit) {
            return Optional.of(String.format(java.util.Locale.ROOT, "its Hessians need %.1f GiB, more than half the heap (%.1f GiB; raise -Xmx, "
                    + "or pass --gptq to insist)", bytes / 1073741824.0, limit / 1073741824.0));
        }
        double work = gptqFactorisationWork(source);
        if (work > GPTQ_DEFAULT_WORK) {
            return Optional.of(String.format(java.util.Locale.ROOT, "its factorisations (sum of K^3 over layer inputs = %.2g) exceed the default "
                    + "bound %.2g (hours of CPU time; pass --gptq to insist)", work, GPTQ_DEFAULT_WORK));
        }
        return Optional.empty();
    }

    /** Sum of K^3 over the distinct layer inputs GPTQ factorises. */
    static double gptqFactorisationWork(ModelFile source) {
        double work = 0;
        for (long k : gptqInputDims(source).values()) {
            work += (double) k * k * k;
        }
        return work;
    }

    private static Map<String, Long> gptqInputDims(ModelFile source) {
        Map<String, Long> dims = new LinkedHashMap<>();
        for (TensorEntry t : ModelQuantizer.linears(source)) {
            dims.put(HessianCollector.inputKey(t.name()), t.cols());
        }
        dims.put(HessianCollector.HEAD_INPUT, source.tensor(HeadQuantizer.EMBEDDING).cols());
        return dims;
    }

    /** Bytes of all the Hessians GPTQ holds at once for {@code source}. */
    static long gptqHessianBytes(ModelFile source) {
        long bytes = 0;
        for (long k : gptqInputDims(source).values()) {
            bytes += 8 * k * k;
        }
        return bytes;
    }

    static TensorType fq6Type() {
        return ModelLoading.types().find(Fq6Layout.TYPE_ID).orElseThrow(() -> new CliException(
                "the FQ6 tensor type (id " + Fq6Layout.TYPE_ID + ") is not registered: is the flexq-plugin jar's META-INF/services intact?"));
    }

    /** The model with the given modes in its metadata but no other flexq keys: what the analysis and evaluation run. */
    static QuantizedModel runnable(ModelFile source, List<ModelQuantizer.Layer> layers, Map<String, ActivationMode> modes) {
        return runnable(source, layers, HeadQuantizer.Result.unchanged(source), modes, ActivationMode.A8);
    }

    /** As above with the embedding/head of {@code head}; an FQ6 head runs in {@code headMode}. */
    static QuantizedModel runnable(ModelFile source, List<ModelQuantizer.Layer> layers, HeadQuantizer.Result head,
                                   Map<String, ActivationMode> modes, ActivationMode headMode) {
        Map<String, Object> extra = new LinkedHashMap<>();
        Map<String, GgufType> types = new LinkedHashMap<>();
        modes.forEach((name, m) -> {
            extra.put(ActivationMode.metadataKey(name), (long) m.bits());
            types.put(ActivationMode.metadataKey(name), GgufType.UINT32);
        });
        if (headIsFq6(head)) {
            extra.put(ActivationMode.metadataKey(head.headTensor()), (long) headMode.bits());
            types.put(ActivationMode.metadataKey(head.headTensor()), GgufType.UINT32);
        }
        return ModelQuantizer.assemble(source, MetadataTypes.of(source), layers, head, fq6Type(), extra, types, source.path());
    }

    static boolean headIsFq6(HeadQuantizer.Result head) {
        TensorEntry t = head.replaced().get(head.headTensor());
        return t != null && t.type().id() == Fq6Layout.TYPE_ID;
    }

    /** The head's activation mode: A16 for the weight-only preset, else A8 (the logits take the head's error directly). */
    static ActivationMode headMode(Preset preset) {
        return preset == Preset.W6A16 ? ActivationMode.A16 : ActivationMode.A8;
    }

    static Modes fixedModes(Preset preset, List<ModelQuantizer.Layer> layers) {
        Map<String, ActivationMode> modes = new LinkedHashMap<>();
        layers.forEach(l -> modes.put(l.name(), preset.fixedMode(l.name())));
        return new Modes(modes, Map.of(), Map.of(), Double.NaN, 0, null);
    }

    /** The sensitivity analysis and the budgeted choice. */
    static Modes measuredModes(ModelFile source, List<ModelQuantizer.Layer> layers, Tokenizer tok, Calibration cal, Console console) throws IOException {
        return measuredModes(source, layers, HeadQuantizer.Result.unchanged(source), tok, cal, console);
    }

    /** The analysis runs the model as it will be written: quantized head included (at A8, never switched). */
    static Modes measuredModes(ModelFile source, List<ModelQuantizer.Layer> layers, HeadQuantizer.Result head, Tokenizer tok, Calibration cal,
                               Console console) throws IOException {
        CalibrationText text = cal.textOrDefault();
        if (tok.bos() < 0) {
            throw new CliException(source.path() + ": the vocabulary has no BOS token to start calibration windows with");
        }
        int[] tokens = tok.encodeWithBos(text.content(), false);
        List<int[]> windows = SensitivityAnalysis.windows(tokens, cal.windows(), cal.ctx(), tok.bos());
        if (windows.isEmpty() || windows.getFirst().length < 2) {
            throw new CliException("--calib " + text.origin() + ": the text is too short to calibrate on (" + tokens.length + " tokens)");
        }
        Map<String, ActivationMode> allA8 = new LinkedHashMap<>();
        layers.forEach(l -> allA8.put(l.name(), ActivationMode.A8));
        QuantizedModel model = runnable(source, layers, head, allA8, ActivationMode.A8);
        Backends backends = Backends.discover(QuantizePipeline.class.getClassLoader(), console::debug);
        SensitivityAnalysis.Result r;
        int passes = windows.size() * (1 + layers.size()) * (cal.rankByGain() ? 2 : 1);
        try (ProgressBar bar = console.progress("sensitivity", passes)) {
            r = SensitivityAnalysis.run(model, backends, windows, cal.rankByGain(), (done, total, what) -> bar.set(done, what), console::debug);
        }
        A8Selection.Choice choice = cal.rankByGain() ? A8Selection.choose(r.gains(), cal.budget(), r.allA6())
                : A8Selection.choose(r.scores(), cal.budget());
        Map<String, ActivationMode> modes = new LinkedHashMap<>();
        layers.forEach(l -> modes.put(l.name(), choice.isA8(l.name()) ? ActivationMode.A8 : ActivationMode.A6));
        return new Modes(modes, r.scores(), r.gains(), r.allA6(), r.positions(), text);
    }

    /** The file to write: source metadata, flexq.* keys, tokenizer keys for a source without them. */
    static QuantizedModel assemble(ModelFile source, List<ModelQuantizer.Layer> layers, Preset preset, boolean clip, boolean gptq, Modes modes,
                                   Optional<Budget> budget, String sourceSha256, Optional<Tokenizer> tokenizer, Path output, Console console) {
        return assemble(source, new Weights(layers, HeadQuantizer.Result.unchanged(source), gptq), HeadFormat.KEEP, preset, clip, modes, budget,
                sourceSha256, tokenizer, output, console);
    }

    /** The file to write, with the embedding/head of {@code weights}. */
    static QuantizedModel assemble(ModelFile source, Weights weights, HeadFormat headFormat, Preset preset, boolean clip, Modes modes,
                                   Optional<Budget> budget, String sourceSha256, Optional<Tokenizer> tokenizer, Path output, Console console) {
        return assemble(source, weights, headFormat, preset, clip, modes, budget, sourceSha256, tokenizer, output, console, PromotionStep.Promoted.NONE);
    }

    /** As above, with the linears in {@code promoted} stored in its wider type instead of FQ6 (--max-bytes). */
    static QuantizedModel assemble(ModelFile source, Weights weights, HeadFormat headFormat, Preset preset, boolean clip, Modes modes,
                                   Optional<Budget> budget, String sourceSha256, Optional<Tokenizer> tokenizer, Path output, Console console,
                                   PromotionStep.Promoted promoted) {
        List<ModelQuantizer.Layer> layers = weights.layers();
        boolean gptq = weights.gptq();
        ModelFile base = weights.model(source);
        HeadQuantizer.Result head = promoted.into(weights.head());
        Map<String, Object> v = new LinkedHashMap<>();
        Map<String, GgufType> t = new LinkedHashMap<>();
        if (!source.metadata().has("tokenizer.ggml.model")) {
            if (tokenizer.isPresent() && tokenizer.get() instanceof SentencePieceTokenizer sp) {
                TokenizerKeys.Keys keys = TokenizerKeys.of(sp);
                v.putAll(keys.values());
                t.putAll(keys.types());
            } else if (tokenizer.isPresent()) {
                // a byte-level BPE (tokenizer.json) is not embedded yet: the file works with --tokenizer
                console.warning(output.getFileName() + " carries no vocabulary (embedding a "
                        + "tokenizer.json is not supported); run it with --tokenizer " + tokenizer.get().source());
            } else {
                throw new CliException(source.path() + " carries no tokenizer and none was found to embed (FQ6 files are self-contained): "
                        + "give --tokenizer FILE (the model's llama2.c tokenizer.bin or tokenizer.json)");
            }
        }
        put(v, t, Fq6Keys.VERSION, GgufType.UINT32, (long) Fq6Keys.FORMAT_VERSION);
        put(v, t, Fq6Keys.GROUP_SIZE, GgufType.UINT32, (long) Fq6Layout.GROUP);
        put(v, t, Fq6Keys.PRESET, GgufType.STRING, preset.id());
        put(v, t, Fq6Keys.WEIGHT_QUANTIZER, GgufType.STRING, (gptq ? "gptq+" : "") + (clip ? "clip" : "rtn"));
        put(v, t, Fq6Keys.SOURCE_SHA256, GgufType.STRING, sourceSha256);
        put(v, t, Fq6Keys.SOURCE_FORMAT, GgufType.STRING, source.format());
        if (!modes.scores().isEmpty()) {
            budget.ifPresent(b -> put(v, t, Fq6Keys.BUDGET, GgufType.STRING, b.toString()));
            put(v, t, Fq6Keys.CALIBRATION_RANK, GgufType.STRING, modes.gains().isEmpty() ? "drop" : "gain");
            if (!modes.gains().isEmpty()) {
                put(v, t, Fq6Keys.CALIBRATION_KLD_ALL_A6, GgufType.FLOAT32, (float) modes.allA6());
            }
            put(v, t, Fq6Keys.CALIBRATION_FILE, GgufType.STRING, modes.calibrationText().name());
            put(v, t, Fq6Keys.CALIBRATION_TOKENS, GgufType.UINT32, modes.calibrationTokens());
        }
        put(v, t, Fq6Keys.HEAD_FORMAT, GgufType.STRING, headFormat.id());
        put(v, t, Fq6Keys.HEAD_TIED, GgufType.BOOL, head.tied());
        weights.alpha().ifPresent(a -> put(v, t, Fq6Keys.SMOOTHING_ALPHA, GgufType.FLOAT32, (float) a));
        for (ModelQuantizer.Layer l : layers) {
            if (!promoted.tensors().containsKey(l.name())) {
                put(v, t, ActivationMode.metadataKey(l.name()), GgufType.UINT32, (long) modes.modes().get(l.name()).bits());
            }
        }
        promoted.metadata().forEach((key, value) -> put(v, t, key, promoted.metadataTypes().get(key), value));
        if (headIsFq6(head)) {
            put(v, t, ActivationMode.metadataKey(head.headTensor()), GgufType.UINT32, (long) headMode(preset).bits());
        }
        for (var e : head.errors().entrySet()) {
            put(v, t, Fq6Keys.WEIGHT_ERROR + e.getKey(), GgufType.FLOAT32, (float) e.getValue().relativeFrobenius());
        }
        for (ModelQuantizer.Layer l : layers) {
            var promotedError = promoted.errors().get(l.name());
            put(v, t, Fq6Keys.WEIGHT_ERROR + l.name(), GgufType.FLOAT32,
                    (float) (promotedError != null ? promotedError : l.error()).relativeFrobenius());
            put(v, t, Fq6Keys.WEIGHT_ERROR_RTN + l.name(), GgufType.FLOAT32, (float) l.rtnError().relativeFrobenius());
        }
        for (var e : modes.scores().entrySet()) {
            put(v, t, Fq6Keys.SENSITIVITY + e.getKey(), GgufType.FLOAT32, e.getValue().floatValue());
        }
        for (var e : modes.gains().entrySet()) {
            put(v, t, Fq6Keys.A8_GAIN + e.getKey(), GgufType.FLOAT32, e.getValue().floatValue());
        }
        return ModelQuantizer.assemble(base, MetadataTypes.of(base), layers, head, fq6Type(), v, t, output);
    }

    /** How the embedding and head were stored. */
    static void summarizeHead(java.io.PrintStream out, HeadQuantizer.Result head, Preset preset) {
        if (head.replaced().isEmpty() && head.notes().isEmpty() && head.dropped().isEmpty()) {
            return;
        }
        head.notes().forEach((name, note) -> {
            var err = head.errors().get(name);
            out.printf(java.util.Locale.ROOT, "%s: %s%s%s%n", name, note,
                    name.equals(head.headTensor()) && headIsFq6(head) ? ", head at " + headMode(preset) : "",
                    err == null ? "" : String.format(java.util.Locale.ROOT, ", error %.4e", err.relativeFrobenius()));
        });
        head.dropped().forEach(name -> out.println(name + ": a copy of token_embd.weight (tied head), stored once"));
    }

    /**
     * auto: the predicted speed gain of the chosen A6 layers on each target path, next to the KLD they cost. Linears
     * promoted to Q8_0 (--max-bytes) no longer run at A6: both figures count them as A8 (their measured A8 gain as
     * saved, their time at the A8 rate), an approximation that the line says.
     */
    static void summarizeSpeed(java.io.PrintStream out, List<ModelQuantizer.Layer> layers, Modes modes, List<ActivationCost.Path> targets,
                               java.util.Set<String> promoted) {
        Map<String, Long> macs = new LinkedHashMap<>();
        Map<String, Boolean> a6 = new LinkedHashMap<>();
        int promotedA6 = 0;
        for (ModelQuantizer.Layer l : layers) {
            macs.put(l.name(), (long) l.rows() * l.cols());
            boolean isA6 = modes.modes().get(l.name()) == ActivationMode.A6;
            if (isA6 && promoted.contains(l.name())) {
                promotedA6++;
                isA6 = false;
            }
            a6.put(l.name(), isA6);
        }
        if (promotedA6 > 0) {
            out.printf(java.util.Locale.ROOT, "%d of the A6 layers were promoted to Q8_0 (--max-bytes): counted as A8 below%n", promotedA6);
        }
        if (!modes.gains().isEmpty()) {
            double saved = 0;
            for (var e : modes.gains().entrySet()) {
                if (!a6.get(e.getKey())) {
                    saved += e.getValue();
                }
            }
            out.printf(java.util.Locale.ROOT, "quality cost of the A6 layers: predicted KLD vs all-A8 %.6f nats (all-A6 %.6f, calibration)%n",
                    modes.allA6() - saved, modes.allA6());
        }
        ActivationCost.describeGain(targets, macs, a6).forEach(line -> out.println("predicted speed: " + line));
    }

    private static void put(Map<String, Object> v, Map<String, GgufType> t, String key, GgufType type, Object value) {
        v.put(key, value);
        t.put(key, type);
    }
}
