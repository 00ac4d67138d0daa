package io.flexq.samples.bench;

import io.flexq.plugin.eval.QualityAccumulator;
import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.Quality;
import io.flexq.plugin.eval.Windows;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whole files, like for like: every FILE (any GGUF the runtime reads: FQ6 files, llama.cpp's Q6_K / Q8_0 files) is
 * scored against REF on the same windows of each text in one pass (the reference runs once per window), with the
 * {@code flexq eval} protocol ({@link WindowedScore}; {@code -Dflexq.checkpoint=N} prints the table so far every
 * N windows too). Prints one markdown table per text: file bytes, bits per weight of the whole file
 * (file bytes x 8 over the model's distinct weights: a tied head counts once, however often a file stores it),
 * PPL, mean / p99 KLD, top-1 agreement.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp "samples/target/classes:$(cat samples/target/classpath.txt)" \
 *       [-Dflexq.refcache=DIR] io.flexq.samples.bench.CompareFiles REF TEXT[,TEXT] WINDOWS FILE...
 * </pre>
 */
public final class CompareFiles {

    private CompareFiles() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: CompareFiles REF TEXT[,TEXT] WINDOWS FILE...");
            System.exit(2);
        }
        ClassLoader cl = CompareFiles.class.getClassLoader();
        var types = BuiltinTypes.registry(cl);
        int windowsMax = Integer.parseInt(args[2]);
        int ctx = 512;
        try (ModelFile ref = ModelFiles.open(Path.of(args[0]), types)) {
            Tokenizer tok = Tokenizers.fromMetadata(ref.metadata());
            long distinct = distinctWeights(ref);
            List<ModelFile> files = new ArrayList<>();
            List<Llama> models = new ArrayList<>();
            List<LlamaLogits> logits = new ArrayList<>();
            String cache = System.getProperty("flexq.refcache");
            try (Llama refModel = Llama.load(ref, cl, s -> { }); LlamaLogits refLive = new LlamaLogits(refModel, ctx)) {
                // -Dflexq.refcache=DIR: reference logits kept on disk, so files scored in separate runs share them
                io.flexq.plugin.eval.LogitModel refLogits = cache == null ? refLive : new CachedLogits(refLive, Path.of(cache));
                for (int i = 3; i < args.length; i++) {
                    ModelFile f = ModelFiles.open(Path.of(args[i]), types);
                    files.add(f);
                    Llama l = Llama.load(f, cl, s -> { });
                    models.add(l);
                    logits.add(new LlamaLogits(l, ctx));
                }
                int every = Integer.getInteger("flexq.checkpoint", 0);
                for (String text : args[1].split(",")) {
                    long t0 = System.nanoTime();
                    int[] tokens = tok.encodeWithBos(Files.readString(Path.of(text), StandardCharsets.UTF_8), false);
                    Windows w = Windows.of(tokens, ctx, windowsMax, tok.bos());
                    WindowedScore.run(text, w, refLogits, logits, every, (done, refAcc, accs, partial) ->
                            print(text, done, ctx, refAcc, accs, files, distinct, ref, (System.nanoTime() - t0) / 1e9, partial));
                }
            } finally {
                logits.forEach(LlamaLogits::close);
                models.forEach(Llama::close);
                files.forEach(ModelFile::close);
            }
        }
    }

    private static void print(String text, int windows, int ctx, QualityAccumulator refAcc, List<QualityAccumulator> accs, List<ModelFile> files,
                              long distinct, ModelFile ref, double seconds, boolean partial) throws java.io.IOException {
        Quality r = refAcc.result();
        System.out.printf(Locale.ROOT, "%s: %s%d windows of %d, %d scored tokens, %.0f s; reference %s PPL %.3f; distinct weights %,d%n%n",
                Path.of(text).getFileName(), partial ? "checkpoint after " : "", windows, ctx, r.tokens(), seconds, ref.path().getFileName(), r.ppl(), distinct);
        System.out.println("| file | bytes | bits/weight (whole file) | PPL | mean KLD | p99 KLD | same top-1 |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < files.size(); i++) {
            Path p = files.get(i).path();
            long bytes = Files.size(p);
            Quality q = accs.get(i).result();
            System.out.printf(Locale.ROOT, "| %s | %,d | %.3f | %.3f | %.6f | %.5f | %.2f%% |%n", p.getFileName(), bytes,
                    8.0 * bytes / distinct, q.ppl(), q.kldMean(), q.kldP99(), 100 * q.top1());
        }
        System.out.println();
        System.out.flush();
    }

    /** Weights of the model, a head that is a copy of the embedding counted once. */
    static long distinctWeights(ModelFile m) {
        long n = 0;
        for (TensorEntry t : m.tensors().values()) {
            n += t.elementCount();
        }
        TensorEntry out = m.tensors().get("output.weight");
        TensorEntry emb = m.tensors().get("token_embd.weight");
        if (out != null && emb != null && out.data().byteSize() == emb.data().byteSize() && out.data().mismatch(emb.data()) == -1) {
            n -= out.elementCount();
        }
        return n;
    }
}
