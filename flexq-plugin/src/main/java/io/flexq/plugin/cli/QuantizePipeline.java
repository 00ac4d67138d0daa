package io.flexq.plugin.cli;

import io.flexq.plugin.calib.A8Selection;
import io.flexq.plugin.calib.Budget;
import io.flexq.plugin.calib.GptqModelQuantizer;
import io.flexq.plugin.calib.HessianCollector;
import io.flexq.plugin.calib.SensitivityAnalysis;
import io.flexq.plugin.fq6.Fq6Keys;
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
    }

    /**
     * The linear weights quantized with GPTQ (group scales by the clipping search or RTN): the Hessians come from
     * {@code settings.windows()} windows of the calibration text run through the unquantized model.
     */
    static List<ModelQuantizer.Layer> quantizeWeightsGptq(ModelFile source, boolean clip, Tokenizer tok, CalibrationText calibText, GptqSettings settings,
                                                         Console console) throws IOException {
        if (tok.bos() < 0) {
            throw new CliException(source.path() + ": the vocabulary has no BOS token to start calibration windows with");
        }
        int[] tokens = tok.encodeWithBos(calibText.content(), false);
        int ctx = Math.min(settings.ctx(), source.metadata().getInt("llama.context_length", settings.ctx()));
        List<int[]> windows = SensitivityAnalysis.windows(tokens, settings.windows(), ctx, tok.bos());
        if (windows.isEmpty() || windows.getFirst().length < 2) {
            throw new CliException("--calib " + calibText.origin() + ": the text is too short to calibrate GPTQ on (" + tokens.length + " tokens)");
        }
        Backends backends = Backends.discover(QuantizePipeline.class.getClassLoader(), console::debug);
        HessianCollector hessians;
        try (ProgressBar bar = console.progress("gptq calibration", windows.size())) {
            hessians = HessianCollector.collect(source, backends, windows, console::debug, done -> bar.set(done, null));
        }
        Gptq gptq = new Gptq(clip ? WeightQuantizer.clipping() : WeightQuantizer.rtn(), settings.damping());
        int total = ModelQuantizer.linears(source).size();
        try (ProgressBar bar = console.progress("gptq", total)) {
            return GptqModelQuantizer.quantize(source, gptq, hessians, (done, name) -> bar.set(done, name));
        }
    }

    static TensorType fq6Type() {
        return ModelLoading.types().find(Fq6Layout.TYPE_ID).orElseThrow(() -> new CliException(
                "the FQ6 tensor type (id " + Fq6Layout.TYPE_ID + ") is not registered: is the flexq-plugin jar's META-INF/services intact?"));
    }

    /** The model with the given modes in its metadata but no other flexq keys: what the analysis and evaluation run. */
    static QuantizedModel runnable(ModelFile source, List<ModelQuantizer.Layer> layers, Map<String, ActivationMode> modes) {
        Map<String, Object> extra = new LinkedHashMap<>();
        Map<String, GgufType> types = new LinkedHashMap<>();
        modes.forEach((name, m) -> {
            extra.put(ActivationMode.metadataKey(name), (long) m.bits());
            types.put(ActivationMode.metadataKey(name), GgufType.UINT32);
        });
        return ModelQuantizer.assemble(source, MetadataTypes.of(source), layers, fq6Type(), extra, types, source.path());
    }

    static Modes fixedModes(Preset preset, List<ModelQuantizer.Layer> layers) {
        Map<String, ActivationMode> modes = new LinkedHashMap<>();
        layers.forEach(l -> modes.put(l.name(), preset.fixedMode(l.name())));
        return new Modes(modes, Map.of(), Map.of(), Double.NaN, 0, null);
    }

    /** The sensitivity analysis and the budgeted choice. */
    static Modes measuredModes(ModelFile source, List<ModelQuantizer.Layer> layers, Tokenizer tok, Calibration cal, Console console) throws IOException {
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
        QuantizedModel model = runnable(source, layers, allA8);
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
        for (ModelQuantizer.Layer l : layers) {
            put(v, t, ActivationMode.metadataKey(l.name()), GgufType.UINT32, (long) modes.modes().get(l.name()).bits());
        }
        for (ModelQuantizer.Layer l : layers) {
            put(v, t, Fq6Keys.WEIGHT_ERROR + l.name(), GgufType.FLOAT32, (float) l.error().relativeFrobenius());
            put(v, t, Fq6Keys.WEIGHT_ERROR_RTN + l.name(), GgufType.FLOAT32, (float) l.rtnError().relativeFrobenius());
        }
        for (var e : modes.scores().entrySet()) {
            put(v, t, Fq6Keys.SENSITIVITY + e.getKey(), GgufType.FLOAT32, e.getValue().floatValue());
        }
        for (var e : modes.gains().entrySet()) {
            put(v, t, Fq6Keys.A8_GAIN + e.getKey(), GgufType.FLOAT32, e.getValue().floatValue());
        }
        return ModelQuantizer.assemble(source, MetadataTypes.of(source), layers, fq6Type(), v, t, output);
    }

    private static void put(Map<String, Object> v, Map<String, GgufType> t, String key, GgufType type, Object value) {
        v.put(key, value);
        t.put(key, type);
    }
}
