package io.flexq.runtime.llama;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.FloatTypes;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test-side model weights as plain float arrays, row-major [out][in], read straight from a llama2.c checkpoint or
 * drawn at random. They feed both the float64 reference (as doubles) and, through {@link #toModelFile}, the
 * runtime's forward (as F32 tensors in GGUF terms). Nothing here uses the code under test.
 *
 * @param llama3 llama3 rope scaling {factor, low, high, originalContext} or null
 */
record RefWeights(int dim, int hidden, int layers, int heads, int kvHeads, int headSize, int vocab, int seqLen,
                  int ropeDim, double theta, double eps, double[] llama3,
                  float[] emb, float[][] attnNorm, float[][] wq, float[][] wk, float[][] wv, float[][] wo,
                  float[][] ffnNorm, float[][] w1, float[][] w2, float[][] w3, float[] outNorm, float[] cls, boolean tied) {

    /** Reads a llama2.c legacy (v0) checkpoint: 7 int32 header, then float32 arrays in the order llama2.c's run.c maps them. */
    static RefWeights readLlama2c(Path bin) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        int dim = bb.getInt(), hidden = bb.getInt(), layers = bb.getInt(), heads = bb.getInt(), kvHeads = bb.getInt();
        int vocabField = bb.getInt(), seqLen = bb.getInt();
        boolean tied = vocabField > 0;
        int vocab = Math.abs(vocabField);
        int hs = dim / heads;
        int kvDim = kvHeads * hs;
        FloatBuffer f = bb.asFloatBuffer();
        float[] emb = take(f, vocab * dim);
        float[][] attnNorm = takeLayers(f, layers, dim);
        float[][] wq = takeLayers(f, layers, dim * dim);
        float[][] wk = takeLayers(f, layers, kvDim * dim);
        float[][] wv = takeLayers(f, layers, kvDim * dim);
        float[][] wo = takeLayers(f, layers, dim * dim);
        float[][] ffnNorm = takeLayers(f, layers, dim);
        float[][] w1 = takeLayers(f, layers, hidden * dim);
        float[][] w2 = takeLayers(f, layers, dim * hidden);
        float[][] w3 = takeLayers(f, layers, hidden * dim);
        float[] outNorm = take(f, dim);
        take(f, seqLen * hs / 2); // freq_cis_real (unused)
        take(f, seqLen * hs / 2); // freq_cis_imag (unused)
        float[] cls = tied ? emb : take(f, vocab * dim);
        return new RefWeights(dim, hidden, layers, heads, kvHeads, hs, vocab, seqLen, hs, 10000.0, 1e-5, null,
                emb, attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3, outNorm, cls, tied);
    }

    /** Random weights (normal * scale, norms near 1) for a model of the given shape, from a fixed seed. */
    static RefWeights random(long seed, int dim, int hidden, int layers, int heads, int kvHeads, int headSize, int vocab,
                             int seqLen, int ropeDim, double theta, double[] llama3, boolean tied) {
        SplittableRandom r = new SplittableRandom(seed);
        int qDim = heads * headSize, kvDim = kvHeads * headSize;
        float[] emb = gauss(r, vocab * dim, 1.0);
        float[][] attnNorm = new float[layers][], wq = new float[layers][], wk = new float[layers][], wv = new float[layers][],
                wo = new float[layers][], ffnNorm = new float[layers][], w1 = new float[layers][], w2 = new float[layers][], w3 = new float[layers][];
        for (int l = 0; l < layers; l++) {
            attnNorm[l] = around1(r, dim);
            wq[l] = gauss(r, qDim * dim, 1 / Math.sqrt(dim));
            wk[l] = gauss(r, kvDim * dim, 1 / Math.sqrt(dim));
            wv[l] = gauss(r, kvDim * dim, 1 / Math.sqrt(dim));
            wo[l] = gauss(r, dim * qDim, 1 / Math.sqrt(qDim));
            ffnNorm[l] = around1(r, dim);
            w1[l] = gauss(r, hidden * dim, 1 / Math.sqrt(dim));
            w2[l] = gauss(r, dim * hidden, 1 / Math.sqrt(hidden));
            w3[l] = gauss(r, hidden * dim, 1 / Math.sqrt(dim));
        }
        float[] outNorm = around1(r, dim);
        float[] cls = tied ? emb : gauss(r, vocab * dim, 1 / Math.sqrt(dim));
        return new RefWeights(dim, hidden, layers, heads, kvHeads, headSize, vocab, seqLen, ropeDim, theta, 1e-5, llama3,
                emb, attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3, outNorm, cls, tied);
    }

    /** These weights as a model file in GGUF terms (metadata keys, tensor names, ne = [in, out]), all F32. */
    ModelFile toModelFile(String name) {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("llama.embedding_length", dim);
        md.put("llama.feed_forward_length", hidden);
        md.put("llama.block_count", layers);
        md.put("llama.attention.head_count", heads);
        md.put("llama.attention.head_count_kv", kvHeads);
        if (headSize * heads != dim) {
            md.put("llama.attention.key_length", headSize);
            md.put("llama.attention.value_length", headSize);
        }
        md.put("llama.context_length", seqLen);
        md.put("llama.rope.dimension_count", ropeDim);
        md.put("llama.rope.freq_base", (float) theta);
        md.put("llama.attention.layer_norm_rms_epsilon", (float) eps);
        if (llama3 != null) {
            md.put("llama.rope.scaling.type", "llama3");
            md.put("llama.rope.scaling.factor", (float) llama3[0]);
            md.put("llama.rope.scaling.low_freq_factor", (float) llama3[1]);
            md.put("llama.rope.scaling.high_freq_factor", (float) llama3[2]);
            md.put("llama.rope.scaling.original_context_length", (int) llama3[3]);
        }
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        int qDim = heads * headSize, kvDim = kvHeads * headSize;
        put(t, "token_embd.weight", emb, dim, vocab);
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            put(t, p + "attn_norm.weight", attnNorm[l], dim);
            put(t, p + "attn_q.weight", wq[l], dim, qDim);
            put(t, p + "attn_k.weight", wk[l], dim, kvDim);
            put(t, p + "attn_v.weight", wv[l], dim, kvDim);
            put(t, p + "attn_output.weight", wo[l], qDim, dim);
            put(t, p + "ffn_norm.weight", ffnNorm[l], dim);
            put(t, p + "ffn_gate.weight", w1[l], dim, hidden);
            put(t, p + "ffn_down.weight", w2[l], hidden, dim);
            put(t, p + "ffn_up.weight", w3[l], dim, hidden);
        }
        put(t, "output_norm.weight", outNorm, dim);
        if (!tied) {
            put(t, "output.weight", cls, dim, vocab);
        }
        Path path = Path.of(name);
        Metadata metadata = new Metadata(name, md);
        return new ModelFile() {
            public Path path() { return path; }
            public String format() { return "test"; }
            public Metadata metadata() { return metadata; }
            public Map<String, TensorEntry> tensors() { return t; }
            public void close() { }
        };
    }

    private static void put(Map<String, TensorEntry> t, String name, float[] data, long... ne) {
        if (data.length != java.util.Arrays.stream(ne).reduce(1, Math::multiplyExact)) {
            throw new IllegalStateException(name);
        }
        MemorySegment seg = MemorySegment.ofArray(data);
        t.put(name, new TensorEntry(name, FloatTypes.F32, ne, seg));
    }

    private static float[] take(FloatBuffer f, int n) {
        float[] a = new float[n];
        f.get(a);
        return a;
    }

    private static float[][] takeLayers(FloatBuffer f, int layers, int n) {
        float[][] a = new float[layers][];
        for (int l = 0; l < layers; l++) {
            a[l] = take(f, n);
        }
        return a;
    }

    private static float[] gauss(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    private static float[] around1(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (1 + 0.2 * r.nextGaussian());
        }
        return a;
    }
}
