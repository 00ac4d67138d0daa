package io.flexq.samples.bench;

import io.flexq.plugin.calib.HessianAccumulator;
import io.flexq.plugin.calib.HessianCollector;
import io.flexq.plugin.calib.Smoothing;
import io.flexq.plugin.calib.SensitivityAnalysis;
import io.flexq.plugin.cli.CalibrationText;
import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.LogitModel;
import io.flexq.plugin.eval.Quality;
import io.flexq.plugin.eval.QualityAccumulator;
import io.flexq.plugin.eval.Windows;
import io.flexq.plugin.fq6.HeadFormat;
import io.flexq.plugin.fq6.HeadQuantizer;
import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import io.flexq.samples.subscale.SimulatedA8;
import io.flexq.samples.subscale.SubScaleLayout;
import io.flexq.samples.subscale.SubScaleGptq;
import io.flexq.samples.subscale.SubScaleQuantizer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Issue 12's scale-layout experiment: whole models whose 56 linear layers are quantized in an experimental
 * {@link SubScaleLayout} (no kernel runs them: the dequantized weights are stored as fp32, exact), with the default
 * Q8_0 embedding / tied head stored once, scored against REF with the {@link CompareFiles} protocol (512-token windows,
 * second half scored, KLD(REF || variant)). {@code :a16} runs the fp32 weights on fp32 activations (W6A16);
 * {@code :a8} quantizes every linear layer's input as FQ6's A8 does ({@link SimulatedA8}). Also prints each layout's
 * relative weight error over the linears and the estimated whole-file size (linears at the layout's bits, the rest
 * as it would be written: Q8_0 embedding, F32 norms, the source's header bytes).
 *
 * <p>{@code LAYOUT+gptq} quantizes the linears with {@link SubScaleGptq} against Hessians collected as
 * {@code flexq quantize} does by default: {@code -Dflexq.gptq.windows} (64) windows of 512 tokens of the calibration
 * text built into flexq-plugin (or {@code -Dflexq.gptq.calib=FILE}), damping 0.01, one pass of the F16 model.
 *
 * <p>{@code +sqALPHA} first folds activation smoothing ({@link Smoothing}, as {@code flexq quantize --smooth ALPHA})
 * into the model, planned from the same calibration pass; GPTQ then sees the rescaled Hessians; {@code +sqcALPHA} uses
 * unrounded factors. {@code :a6} simulates W6A6 as {@code :a8} does W6A8.
 *
 * <pre>
 *   java ... [-Dflexq.refcache=DIR] [-Dflexq.checkpoint=N] io.flexq.samples.bench.SubScaleQuality REF TEXT[,TEXT] WINDOWS LAYOUT[+gptq][+sqA]:MODE[,...]
 * </pre>
 */
public final class SubScaleQuality {

    private SubScaleQuality() {
    }

    private record Variant(String layout, String mode, double bpw, QuantizedModel model, double relError, long estBytes) {
    }

    /**
     * The dequantized weights of one linear in layout {@code name}: a {@link SubScaleLayout}, or {@code q6_k} (the
     * runtime's Q6_K encoder, for reference); {@code h}, when given, is its input's Hessian for GPTQ.
     */
    private static float[] roundTrip(String name, String tensor, float[] w, int rows, int cols, double[] h) {
        if (h != null) {
            return SubScaleGptq.quantize(tensor, w, rows, cols, SubScaleLayout.of(name), h, Gptq.DEFAULT_DAMPING).dequantize();
        }
        if (name.equals("q6_k")) {
            return Quantizers.dequantize(QuantTypes.Q6_K, MemorySegment.ofArray(Quantizers.quantize(QuantTypes.Q6_K, w, rows, cols)), rows, cols);
        }
        return SubScaleQuantizer.quantize(tensor, w, rows, cols, SubScaleLayout.of(name)).dequantize();
    }

    /** The GPTQ Hessians of {@code ref}'s linear inputs, from the default calibration text (see the class comment). */
    private static HessianCollector hessians(ModelFile ref, Tokenizer tok, ClassLoader cl) throws IOException {
        String calib = System.getProperty("flexq.gptq.calib");
        CalibrationText text = calib != null ? CalibrationText.of(Path.of(calib)) : CalibrationText.builtIn();
        int count = Integer.getInteger("flexq.gptq.windows", 64);
        int ctx = Math.min(512, ref.metadata().getInt("llama.context_length", 512));
        List<int[]> windows = SensitivityAnalysis.windows(tok.encodeWithBos(text.content(), false), count, ctx, tok.bos());
        long t0 = System.nanoTime();
        HessianCollector c = HessianCollector.collect(ref, Backends.discover(cl, s -> { }), windows, s -> { }, done -> { });
        System.err.printf(Locale.ROOT, "GPTQ calibration: %d windows of %d tokens of %s (%.0f s)%n", windows.size(), ctx,
                text.origin(), (System.nanoTime() - t0) / 1e9);
        return c;
    }

    private static double bitsPerWeight(String name) {
        return name.equals("q6_k") ? 6.5625 : SubScaleLayout.of(name).bitsPerWeight();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: SubScaleQuality REF TEXT[,TEXT] WINDOWS LAYOUT:MODE[,...]   layouts: "
                    + SubScaleLayout.KNOWN.stream().map(SubScaleLayout::name).toList() + ", modes a16 a8");
            System.exit(2);
        }
        ClassLoader cl = SubScaleQuality.class.getClassLoader();
        int ctx = 512;
        try (ModelFile ref = ModelFiles.open(Path.of(args[0]), BuiltinTypes.registry(cl))) {
            Tokenizer tok = Tokenizers.fromMetadata(ref.metadata());
            long distinct = CompareFiles.distinctWeights(ref);
            HeadQuantizer.Result head = HeadQuantizer.quantize(ref, HeadFormat.Q8_0, WeightQuantizer.clipping(), Optional.empty(), null);
            List<TensorEntry> linears = ModelQuantizer.linears(ref);
            long linearWeights = linears.stream().mapToLong(TensorEntry::elementCount).sum();
            long header = Files.size(ref.path()) - ref.tensors().values().stream().mapToLong(t -> t.data().byteSize()).sum();
            Map<String, Map<String, TensorEntry>> quantized = new LinkedHashMap<>();
            Map<String, Double> errors = new LinkedHashMap<>();
            List<Variant> variants = new ArrayList<>();
            HessianCollector collector = null;
            for (String spec : args[3].split(",")) {
                String[] p = spec.split(":");
                String layout = p[0];
                String[] parts = layout.split("\\+");
                String base = parts[0];
                boolean gptq = false;
                double alpha = Double.NaN;
                boolean pow2 = true;
                for (int i = 1; i < parts.length; i++) {
                    if (parts[i].equals("gptq")) {
                        gptq = true;
                    } else if (parts[i].startsWith("sqc")) {
                        alpha = Smoothing.checkAlpha(Double.parseDouble(parts[i].substring(3)), "variant '" + spec + "': sqc");
                        pow2 = false;
                    } else if (parts[i].startsWith("sq")) {
                        alpha = Smoothing.checkAlpha(Double.parseDouble(parts[i].substring(2)), "variant '" + spec + "': sq");
                    } else {
                        throw new IllegalArgumentException("variant '" + spec + "': unknown suffix +" + parts[i] + " (expected +gptq, +sqALPHA (power-of-two factors) or +sqcALPHA (unrounded))");
                    }
                }
                boolean smooth = !Double.isNaN(alpha);
                double bpw = bitsPerWeight(base);
                TensorType simulated = switch (p.length == 2 ? p[1] : "") {
                    case "a8" -> SimulatedA8.TYPE;
                    case "a6" -> SimulatedA8.TYPE_A6;
                    case "a16" -> null;
                    default -> throw new IllegalArgumentException("variant '" + spec + "': expected LAYOUT:a8, LAYOUT:a6 or LAYOUT:a16");
                };
                if (!quantized.containsKey(layout)) {
                    long t0 = System.nanoTime();
                    double sse = 0, ssw = 0;
                    Map<String, TensorEntry> tensors = new LinkedHashMap<>();
                    if ((gptq || smooth) && collector == null) {
                        collector = hessians(ref, tok, cl);
                    }
                    Smoothing.Result sm = null;
                    List<TensorEntry> source = linears;
                    if (smooth) {
                        HessianCollector stats = collector;
                        sm = Smoothing.plan(ref, key -> stats.inputs().get(key).absMax(), alpha, pow2);
                        System.err.println(layout + ": " + Smoothing.describe(sm));
                        source = ModelQuantizer.linears(sm.applyTo(ref));
                        sm.tensors().forEach((name, t) -> {
                            if (!LinearTensors.isLinear(name)) {
                                tensors.put(name, t); // the norms that took the division
                            }
                        });
                    }
                    String lastKey = null;
                    double[] h = null;
                    for (TensorEntry t : source) {
                        int rows = (int) t.rows(), cols = (int) t.cols();
                        float[] w = Quantizers.dequantize(t.type(), t.data(), rows, cols);
                        TensorEntry original = ref.tensor(t.name());
                        if (gptq && !HessianCollector.inputKey(t.name()).equals(lastKey)) {
                            HessianAccumulator acc = collector.hessianFor(t.name()).orElseThrow(
                                    () -> new IllegalStateException("no calibration statistics for " + t.name()));
                            h = acc.hessian(); // q/k/v and gate/up are consecutive: each H once
                            if (sm != null) {
                                h = sm.transformHessian(HessianCollector.inputKey(t.name()), h);
                            }
                            lastKey = HessianCollector.inputKey(t.name());
                        }
                        float[] d = roundTrip(base, t.name(), w, rows, cols, gptq ? h : null);
                        for (int i = 0; i < w.length; i++) {
                            double e = w[i] - (double) d[i];
                            sse += e * e;
                            ssw += (double) w[i] * w[i];
                        }
                        tensors.put(t.name(), new TensorEntry(t.name(), FloatTypes.F32, original.ne().clone(),
                                MemorySegment.ofArray(Quantizers.quantize(FloatTypes.F32, d, rows, cols))));
                    }
                    quantized.put(layout, tensors);
                    errors.put(layout, Math.sqrt(sse / ssw));
                    System.err.printf(Locale.ROOT, "%s: relative weight error %.5f (%.0f s)%n",
                            base.equals("q6_k") ? "q6_k (runtime Q6_K encoder, 6.5625 bpw)" : SubScaleLayout.of(base).describe() + (gptq ? " + GPTQ" : "") + (smooth ? " + smoothing alpha " + alpha : ""),
                            Math.sqrt(sse / ssw),
                            (System.nanoTime() - t0) / 1e9);
                }
                Map<String, TensorEntry> tensors = new LinkedHashMap<>(ref.tensors());
                head.dropped().forEach(tensors::remove);
                tensors.putAll(head.replaced());
                long rest = header;
                for (TensorEntry t : tensors.values()) {
                    if (!quantized.get(layout).containsKey(t.name()) || !LinearTensors.isLinear(t.name())) {
                        rest += t.data().byteSize();
                    }
                }
                quantized.get(layout).forEach((name, t) -> tensors.put(name,
                        simulated != null && LinearTensors.isLinear(name) ? new TensorEntry(name, simulated, t.ne(), t.data()) : t));
                long est = rest + Math.round(linearWeights * bpw / 8);
                QuantizedModel m = new QuantizedModel(ref.path(), ref.format(), ref.metadata().asMap(), MetadataTypes.of(ref), tensors);
                variants.add(new Variant(layout, simulated == SimulatedA8.TYPE ? "W6A8" : simulated == SimulatedA8.TYPE_A6 ? "W6A6" : "W6A16", bpw, m, errors.get(layout), est));
            }
            int threads = PoolLease.defaultThreads();
            CpuBackend cpu = new CpuBackend(PoolLease.owned(threads));
            List<Llama> models = new ArrayList<>();
            List<LlamaLogits> logits = new ArrayList<>();
            String cache = System.getProperty("flexq.refcache");
            int every = Integer.getInteger("flexq.checkpoint", 0);
            try (Llama refModel = Llama.load(ref, cl, s -> { }); LlamaLogits refLive = new LlamaLogits(refModel, ctx)) {
                LogitModel refLogits = cache == null ? refLive : new CachedLogits(refLive, Path.of(cache));
                for (Variant v : variants) {
                    Llama l = Llama.load(v.model(), new Backends(List.of(new SimulatedA8(cpu), cpu), s -> { }), List.of(), s -> { });
                    models.add(l);
                    logits.add(new LlamaLogits(l, ctx));
                }
                for (String text : args[1].split(",")) {
                    long t0 = System.nanoTime();
                    int[] tokens = tok.encodeWithBos(Files.readString(Path.of(text), StandardCharsets.UTF_8), false);
                    Windows w = Windows.of(tokens, ctx, Integer.parseInt(args[2]), tok.bos());
                    WindowedScore.run(text, w, refLogits, logits, every, (done, refAcc, accs, partial) ->
                            print(text, done, ctx, refAcc, accs, variants, linearWeights, distinct, (System.nanoTime() - t0) / 1e9, partial));
                }
            } finally {
                logits.forEach(LlamaLogits::close);
                models.forEach(Llama::close);
            }
        }
    }

    private static void print(String text, int windows, int ctx, QualityAccumulator refAcc, List<QualityAccumulator> accs, List<Variant> variants,
                              long linearWeights, long distinct, double seconds, boolean partial) {
        Quality r = refAcc.result();
        System.out.printf(Locale.ROOT, "%s: %s%d windows of %d, %d scored tokens, %.0f s; reference PPL %.3f; %,d linear weights, %,d distinct%n%n",
                Path.of(text).getFileName(), partial ? "checkpoint after " : "", windows, ctx, r.tokens(), seconds, r.ppl(), linearWeights, distinct);
        System.out.println("| layout | mode | bpw linears | rel. weight error | est. file bytes | bpw whole file | PPL | mean KLD | p99 KLD | same top-1 |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < variants.size(); i++) {
            Variant v = variants.get(i);
            Quality q = accs.get(i).result();
            System.out.printf(Locale.ROOT, "| %s | %s | %.4f | %.5f | %,d | %.3f | %.3f | %.6f | %.5f | %.2f%% |%n", v.layout(),
                    v.mode(), v.bpw(), v.relError(), v.estBytes(), 8.0 * v.estBytes() / distinct, q.ppl(), q.kldMean(), q.kldP99(), 100 * q.top1());
        }
        System.out.println();
        System.out.flush();
    }
}
