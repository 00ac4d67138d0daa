package io.flexq.conformance;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.tensor.FloatTypes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The whole kit against each backend of a roster, as one table (what {@code flexq conformance} prints):
 *
 * <ul>
 *   <li>matmul: {@link MatmulConformance} for every registered type and each of its variants (FQ6: W6A6, W6A8,
 *       W6A16); the cell shows the worst {@code |e| / bound} over the shapes;</li>
 *   <li>golden (FQ6): {@link Fq6GoldenCheck} on every golden case in the variant's activation mode, partials bit
 *       exact where the matrix implements {@code IntegerPartials};</li>
 *   <li>end-to-end (F32): the stories260K model with only this backend, its logits after BOS against llama.cpp's
 *       published top-5 and mean ({@link Stories260K}), within {@value #TOP5_TOLERANCE}.</li>
 * </ul>
 *
 * A backend that does not support a type, or runs FQ6 without quantizing the activations it was asked to, is
 * "not implemented" there, never a pass; an unavailable backend is listed as skipped with its reason.
 */
public final class ConformanceRun {

    /** Step-0 logit tolerance against llama.cpp: fp32 reassociation noise is ~1e-5, the values are printed to 5 decimals. */
    public static final double TOP5_TOLERANCE = 2e-3;

    private final TensorTypes types;
    private final MatmulConformance kit;
    private final List<Fq6GoldenCase> golden;
    private final Optional<Path> stories260K;
    private final Consumer<String> progress;

    /**
     * @param stories260K the llama2.c stories260K.bin for the end-to-end check (empty: that column is n/i)
     * @param progress    one line per check as it starts
     */
    public ConformanceRun(TensorTypes types, MatmulConformance kit, List<Fq6GoldenCase> golden, Optional<Path> stories260K,
                          Consumer<String> progress) {
        this.types = types;
        this.kit = kit;
        this.golden = List.copyOf(golden);
        this.stories260K = stories260K;
        this.progress = progress;
    }

    public ConformanceTable run(BackendRoster roster) {
        List<ConformanceTable.Row> rows = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (BackendRoster.Entry e : roster.entries()) {
            if (!e.available()) {
                skipped.add(e.name() + ": " + e.reason());
                continue;
            }
            for (TensorType type : types.all()) {
                rows.addAll(rows(e.backend(), type));
            }
        }
        return new ConformanceTable(rows, skipped);
    }

    private List<ConformanceTable.Row> rows(WeightBackend b, TensorType type) {
        boolean supported;
        try {
            supported = Shape.forType(type).stream().anyMatch(s -> b.supports(type, s.rows(), s.cols()));
        } catch (RuntimeException | LinkageError x) {
            CheckCell thrown = CheckCell.fail("FAIL", b.name() + ".supports(" + type.name() + ", ...) threw " + x);
            return List.of(new ConformanceTable.Row(b.name(), type.name(), "-", List.of(thrown, CheckCell.NONE, CheckCell.NONE)));
        }
        if (!supported) {
            CheckCell no = CheckCell.notImplemented("the backend does not support " + type.name());
            return List.of(new ConformanceTable.Row(b.name(), type.name(), "-", List.of(no,
                    type.id() == Fq6Layout.TYPE_ID ? no : CheckCell.NONE, type.id() == FloatTypes.F32.id() ? no : CheckCell.NONE)));
        }
        List<ConformanceTable.Row> rows = new ArrayList<>();
        for (Variant v : Variant.forType(type)) {
            progress.accept(b.name() + " / " + type.name() + " / " + v.label());
            Optional<ActivationMode> mode = fq6Mode(type, v);
            rows.add(new ConformanceTable.Row(b.name(), type.name(), v.label(), List.of(
                    matmul(b, type, v),
                    mode.map(m -> golden(b, type, m)).orElse(CheckCell.NONE),
                    type.id() == FloatTypes.F32.id() ? endToEnd(b) : CheckCell.NONE)));
        }
        return rows;
    }

    private static Optional<ActivationMode> fq6Mode(TensorType type, Variant v) {
        if (type.id() != Fq6Layout.TYPE_ID) {
            return Optional.empty();
        }
        return Arrays.stream(ActivationMode.values()).filter(m -> Variant.fq6(m).label().equals(v.label())).findFirst();
    }

    private CheckCell matmul(WeightBackend b, TensorType type, Variant v) {
        if (!kit.canEncode(type)) {
            return CheckCell.notImplemented("the kit has no encoder for " + type.name() + " (id " + type.id() + "); add one with TypeEncoders.with");
        }
        MatmulReport r;
        try {
            r = kit.run(b, type, v);
        } catch (RuntimeException | LinkageError x) {
            return CheckCell.fail("FAIL", "threw " + x);
        }
        if (!r.failures().isEmpty()) {
            StringBuilder d = new StringBuilder(r.summary());
            r.failures().stream().limit(3).forEach(f -> d.append("; ").append(f));
            return CheckCell.fail(String.format(Locale.ROOT, "FAIL %.3g", r.worstRatio()), d.toString());
        }
        if (r.checked() == 0) {
            return CheckCell.notImplemented("no shape of " + type.name() + " is supported");
        }
        if (r.worstRmsSigmas() < MatmulReport.NOT_QUANTIZED) {
            return CheckCell.notImplemented(String.format(Locale.ROOT, "outputs within the bound (worst %.3g) but with far less error than"
                    + " activation quantization makes: the backend runs %s as W6A16", r.worstRatio(), v.label()));
        }
        return CheckCell.pass(String.format(Locale.ROOT, "pass %.3g", r.worstRatio()));
    }

    private CheckCell golden(WeightBackend b, TensorType fq6, ActivationMode mode) {
        List<Fq6GoldenCheck.Result> results = golden.stream()
                .map(c -> Fq6GoldenCheck.run(b, fq6, c, mode, PartialsProbe.standard())).toList();
        Optional<Fq6GoldenCheck.Result> failed = results.stream().filter(Fq6GoldenCheck.Result::failed).findFirst();
        double worst = results.stream().filter(r -> r.verdict() != Fq6GoldenCheck.Verdict.UNSUPPORTED)
                .mapToDouble(Fq6GoldenCheck.Result::worstRatio).max().orElse(Double.NaN);
        if (failed.isPresent()) {
            return CheckCell.fail(String.format(Locale.ROOT, "FAIL %.3g", worst), failed.get().toString());
        }
        Optional<Fq6GoldenCheck.Result> fallback = results.stream()
                .filter(r -> r.verdict() == Fq6GoldenCheck.Verdict.W6A16_FALLBACK).findFirst();
        if (fallback.isPresent()) {
            return CheckCell.notImplemented(fallback.get().detail());
        }
        List<Fq6GoldenCheck.Result> ran = results.stream().filter(r -> r.verdict() == Fq6GoldenCheck.Verdict.CONFORMS).toList();
        if (ran.isEmpty()) {
            return CheckCell.notImplemented("no golden case is supported");
        }
        boolean exact = ran.stream().allMatch(r -> r.partials().startsWith("bit exact"));
        return CheckCell.pass(String.format(Locale.ROOT, "pass %.3g%s", worst, mode.quantized() && exact ? ", P exact" : ""));
    }

    private CheckCell endToEnd(WeightBackend b) {
        if (stories260K.isEmpty()) {
            return CheckCell.notImplemented("the stories260K model was not found (pass --model PATH to the llama2.c stories260K.bin)");
        }
        try (ModelFile file = ModelFiles.open(stories260K.get(), types)) {
            EndToEnd.Run r = EndToEnd.run("stories260K", file, new BackendConfiguration(b.name(), List.of(b), List.of()), 0, null);
            List<String> problems = EndToEnd.checkTop5(r.step0(), TOP5_TOLERANCE);
            String dev = String.format(Locale.ROOT, "%.2g", EndToEnd.top5Deviation(r.step0()));
            return problems.isEmpty() ? CheckCell.pass("pass " + dev)
                    : CheckCell.fail("FAIL " + dev, "stories260K logits after BOS vs llama.cpp: " + String.join("; ", problems));
        } catch (RuntimeException | LinkageError x) {
            return CheckCell.fail("FAIL", "stories260K with only " + b.name() + ": " + x);
        }
    }
}
