package io.flexq.plugin.cli;

import io.flexq.plugin.calib.Budget;
import io.flexq.plugin.eval.Evaluator;
import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.Quality;
import io.flexq.plugin.eval.Windows;
import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.Preset;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code flexq quality MODEL --text FILE}: the quality table of one model on one text. Every variant is built in
 * memory from MODEL (the reference, run as it is): the runtime's own Q8_0 and Q6_K of the linear weights (the
 * tensor package's encoders), and FQ6 with the clipping quantizer under each activation preset. All variants run on
 * the same windows with the llama-perplexity protocol, the reference once per window; the result is a markdown table.
 */
public final class QualityCommand implements Command {

    static final List<String> ALL = List.of("ref", "q8_0", "q6_k", "w6a16", "a8", "a6", "paper", "auto");

    @Override
    public String name() {
        return "quality";
    }

    @Override
    public String summary() {
        return "quality table (PPL, KLD, top-1, bits/weight) of Q8_0, Q6_K and FQ6 presets against MODEL on one text";
    }

    @Override
    public String synopsis() {
        return "MODEL --text FILE";
    }

    @Override
    public String details() {
        return """
                Variants: ref (MODEL as it is), q8_0, q6_k (the runtime's own encoders on the linear weights only;
                a tensor whose row length does not fit the type's blocks keeps its type), w6a16, a8, a6, paper, auto
                (FQ6, clipping quantizer; auto calibrates on --calib with the default budget). Bits per weight are
                over the linear weights. Protocol as flexq eval (second half of each window scored).
                """;
    }

    @Override
    public List<Flag> flags() {
        return List.of(
                Flag.value("text", "FILE[,FILE...]", "text(s) to score (required); one table per text, variants built once"),
                Flag.value("calib-windows", "N", "calibration windows for auto (default " + QuantizePipeline.Calibration.DEFAULT_WINDOWS + ")"),
                Flag.value("calib-ctx", "N", "tokens per calibration window (default " + QuantizePipeline.Calibration.DEFAULT_CTX + ")"),
                Flag.value("windows", "N", "first N windows (default: all)"),
                Flag.value("ctx", "N", "window length (default 512)"),
                Flag.value("variants", "LIST", "comma-separated subset of " + String.join(",", ALL)),
                Flag.value("calib", "FILE", "calibration text for auto and GPTQ (default: a public-domain text built into the jar)"),
                Flag.bool("rank-drop", "auto ranks layers by drop score alone (quantize --rank drop)"),
                Flag.bool("gptq", "also every FQ6 variant with GPTQ weights (rows '... GPTQ'; Hessians from --calib)"),
                Flag.value("gptq-windows", "N", "GPTQ calibration windows (default " + QuantizePipeline.GptqSettings.DEFAULT_WINDOWS + ")"),
                Flag.value("gptq-ctx", "N", "tokens per GPTQ calibration window (default " + QuantizePipeline.GptqSettings.DEFAULT_CTX + ")"),
                Flag.value("gptq-damp", "X", "GPTQ relative damping (default 0.01)"),
                Flag.value("tokenizer", "FILE", "tokenizer of a model without one"));
    }

    /** One row of the table. */
    record Row(String name, Quality q, double bpw, String note) {
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.expectPositional(1, 1, synopsis());
        List<Path> texts = new ArrayList<>();
        for (String t : args.value("text").orElseThrow(() -> new CliException.Usage("--text FILE is required")).split(",")) {
            texts.add(Args.existingFile(t, "--text"));
        }
        int ctx = args.intValue("ctx", 512, 4, 1 << 20);
        int maxWindows = args.intValue("windows", 0, 1, Integer.MAX_VALUE);
        List<String> variants = List.of(args.value("variants", String.join(",", ALL)).split(","));
        for (String v : variants) {
            if (!ALL.contains(v)) {
                throw new CliException.Usage("--variants: unknown variant '" + v + "' (known: " + String.join(",", ALL) + ")");
            }
        }
        long t0 = System.nanoTime();
        try (ModelFile source = ModelLoading.open(args.positional(0), "MODEL")) {
            Tokenizer tok = ModelLoading.tokenizer(source, args.value("tokenizer"));

            List<TensorEntry> linears = ModelQuantizer.linears(source);
            long linearWeights = linears.stream().mapToLong(TensorEntry::elementCount).sum();
            List<String> names = new ArrayList<>();
            List<ModelFile> models = new ArrayList<>();
            List<Double> bpws = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            for (String v : variants) {
                if (v.equals("q8_0") || v.equals("q6_k")) {
                    TensorType type = v.equals("q8_0") ? QuantTypes.Q8_0 : QuantTypes.Q6_K;
                    Requantized r = requantize(source, linears, type);
                    if (r.kept == linears.size()) {
                        notes.add(type.name() + ": no linear row length fits its blocks (skipped)");
                        continue;
                    }
                    names.add(type.name());
                    models.add(r.model);
                    bpws.add(8.0 * r.bytes / linearWeights);
                    if (r.kept > 0) {
                        notes.add(type.name() + ": " + r.kept + " of " + linears.size() + " linear tensors keep their type (row length not a multiple of "
                                + type.blockSize() + ")");
                    }
                }
            }
            List<ModelQuantizer.Layer> clipLayers = null;
            List<ModelQuantizer.Layer> gptqLayers = null;
            for (boolean gptq : args.has("gptq") ? List.of(false, true) : List.of(false)) {
                for (String v : variants) {
                    if (!List.of("w6a16", "a8", "a6", "paper", "auto").contains(v)) {
                        continue;
                    }
                    if (!gptq && clipLayers == null) {
                        clipLayers = QuantizePipeline.quantizeWeights(source, true, console);
                    }
                    if (gptq && gptqLayers == null) {
                        CalibrationText calib = new QuantizePipeline.Calibration(args.value("calib").map(c -> Args.existingFile(c, "--calib")), 1, 2,
                                Budget.DEFAULT, true).textOrDefault();
                        gptqLayers = QuantizePipeline.quantizeWeightsGptq(source, true, tok, calib, QuantizeCommand.gptqSettings(args), console);
                        notes.add("GPTQ: Hessians from " + QuantizeCommand.gptqSettings(args).windows() + " windows of "
                                + QuantizeCommand.gptqSettings(args).ctx() + " tokens of " + calib.name() + ", damping "
                                + QuantizeCommand.gptqSettings(args).damping() + ", group scales by the clipping search");
                    }
                    List<ModelQuantizer.Layer> layers = gptq ? gptqLayers : clipLayers;
                    Preset p = Preset.of(v);
                    QuantizePipeline.Modes modes = p == Preset.AUTO
                            ? QuantizePipeline.measuredModes(source, layers, tok, new QuantizePipeline.Calibration(
                                    args.value("calib").map(c -> Args.existingFile(c, "--calib")),
                                    args.intValue("calib-windows", QuantizePipeline.Calibration.DEFAULT_WINDOWS, 1, 100_000),
                                    args.intValue("calib-ctx", QuantizePipeline.Calibration.DEFAULT_CTX, 2, 1 << 20), Budget.DEFAULT, !args.has("rank-drop")), console)
                            : QuantizePipeline.fixedModes(p, layers);
                    names.add(switch (p) {
                        case W6A16 -> "FQ6 W6A16";
                        case A8 -> "FQ6 W6A8";
                        case A6 -> "FQ6 W6A6";
                        case PAPER -> "FQ6 paper";
                        case AUTO -> "FQ6 auto";
                    } + (gptq ? " GPTQ" : ""));
                    models.add(QuantizePipeline.runnable(source, layers, modes.modes()));
                    long bytes = layers.stream().mapToLong(l -> l.fq6().length).sum();
                    bpws.add(8.0 * bytes / linearWeights);
                    if (p == Preset.AUTO) {
                        long a8 = modes.modes().values().stream().filter(m -> m == ActivationMode.A8).count();
                        List<String> chosen = modes.modes().entrySet().stream().filter(e -> e.getValue() == ActivationMode.A8)
                                .map(Map.Entry::getKey).sorted((a, b) -> Integer.compare(LinearTensors.order(a), LinearTensors.order(b))).toList();
                        notes.add("auto" + (gptq ? " GPTQ" : "") + " (budget " + Budget.DEFAULT + ", rank " + (args.has("rank-drop") ? "drop" : "gain") + ", "
                                + modes.calibrationTokens() + " calibration tokens of " + modes.calibrationText().name() + "): A8 on " + a8 + " of "
                                + layers.size() + ": " + String.join(", ", chosen));
                    }
                }
            }
            boolean withRef = variants.contains("ref");
            List<Llama> loaded = new ArrayList<>();
            List<LlamaLogits> logits = new ArrayList<>();
            try (Llama ref = Llama.load(source, getClass().getClassLoader(), console::debug); LlamaLogits refLogits = new LlamaLogits(ref, ctx)) {
                for (ModelFile m : models) {
                    Llama l = Llama.load(m, getClass().getClassLoader(), console::debug);
                    loaded.add(l);
                    logits.add(new LlamaLogits(l, ctx));
                }
                for (Path textPath : texts) {
                    long t1 = System.nanoTime();
                    int[] tokens = tok.encodeWithBos(Files.readString(textPath, StandardCharsets.UTF_8), false);
                    Windows windows = Windows.of(tokens, ctx, maxWindows, tok.bos());
                    console.info(String.format(Locale.ROOT, "%s: %d tokens, %d windows of %d", textPath, tokens.length, windows.count(), ctx));
                    Evaluator.Result result;
                    try (ProgressBar bar = console.progress("quality", windows.count())) {
                        result = Evaluator.run(windows, refLogits, logits, done -> bar.set(done, null));
                    }
                    List<Row> rows = new ArrayList<>();
                    if (withRef) {
                        double refBpw = 8.0 * linears.stream().mapToLong(t -> t.data().byteSize()).sum() / linearWeights;
                        rows.add(new Row("reference (" + linears.getFirst().type().name() + ")", result.reference(), refBpw, ""));
                    }
                    for (int i = 0; i < names.size(); i++) {
                        rows.add(new Row(names.get(i), result.candidates().get(i), bpws.get(i), ""));
                    }
                    print(console, source, textPath, windows, rows, notes, (System.nanoTime() - t1) / 1e9);
                    console.out().println();
                    console.out().flush();
                }
            } finally {
                logits.forEach(LlamaLogits::close);
                loaded.forEach(Llama::close);
            }
            console.info(String.format(Locale.ROOT, "total %.0f s", (System.nanoTime() - t0) / 1e9));
        }
        return 0;
    }

    private record Requantized(ModelFile model, long bytes, int kept) {
    }

    /** MODEL with its linear weights re-encoded in {@code type} where their row length allows. */
    private static Requantized requantize(ModelFile source, List<TensorEntry> linears, TensorType type) {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>(source.tensors());
        long bytes = 0;
        int kept = 0;
        for (TensorEntry t : linears) {
            int rows = (int) t.rows(), cols = (int) t.cols();
            if (cols % type.blockSize() != 0) {
                kept++;
                bytes += t.data().byteSize();
                continue;
            }
            float[] w = Quantizers.dequantize(t.type(), t.data(), rows, cols);
            byte[] q = Quantizers.quantize(type, w, rows, cols);
            bytes += q.length;
            tensors.put(t.name(), new TensorEntry(t.name(), type, t.ne(), java.lang.foreign.MemorySegment.ofArray(q)));
        }
        Map<String, GgufType> types = io.flexq.plugin.fq6.MetadataTypes.of(source);
        Metadata md = source.metadata();
        return new Requantized(new io.flexq.plugin.fq6.QuantizedModel(source.path(), source.format(), md.asMap(), types, tensors), bytes, kept);
    }

    private static void print(Console c, ModelFile source, Path text, Windows w, List<Row> rows, List<String> notes, double seconds) {
        var out = c.out();
        Quality first = rows.getFirst().q();
        out.printf(Locale.ROOT, "%s on %s: %d windows of %d, %d scored tokens (second half of each window), evaluated in %.0f s%n%n",
                source.path().getFileName(), text.getFileName(), w.count(), w.ctx(), first.tokens(), seconds);
        out.println("| variant | bits/weight (linears) | PPL | mean KLD | p99 KLD | same top-1 |");
        out.println("|---|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            boolean ref = r.name().startsWith("reference");
            out.printf(Locale.ROOT, "| %s | %.3f | %.3f ± %.3f | %s | %s | %s |%n", r.name(), r.bpw(), r.q().ppl(), r.q().pplError(),
                    ref ? "—" : String.format(Locale.ROOT, "%.6f", r.q().kldMean()),
                    ref ? "—" : String.format(Locale.ROOT, "%.5f", r.q().kldP99()),
                    ref ? "—" : String.format(Locale.ROOT, "%.2f%%", 100 * r.q().top1()));
        }
        if (!notes.isEmpty()) {
            out.println();
            notes.forEach(n -> out.println("- " + n));
        }
    }

}
