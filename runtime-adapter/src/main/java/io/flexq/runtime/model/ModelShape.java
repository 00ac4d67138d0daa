package io.flexq.runtime.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a Llama model, enough to build one with random weights ({@link SyntheticModel}) that costs what the
 * real one costs to run: every matrix has the real model's rows and columns, so matmul time, weight bytes and KV
 * cache size are the real ones. Values are never the real ones.
 *
 * @param name           e.g. "llama-3.2-1b"
 * @param dim            embedding_length
 * @param hiddenDim      feed_forward_length
 * @param layers         block_count
 * @param heads          query heads
 * @param kvHeads        key/value heads
 * @param headSize       key_length (heads * headSize may differ from dim)
 * @param vocabSize      rows of token_embd.weight
 * @param contextLength  llama.context_length
 * @param ropeTheta      rope.freq_base
 * @param llama3Rope     Llama 3.1-style frequency scaling, or null (it changes RoPE angles, not cost)
 * @param tiedEmbeddings true: no output.weight, the head reuses token_embd.weight (as Llama 3.2 1B and 3B do)
 */
public record ModelShape(String name, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headSize,
                         int vocabSize, int contextLength, double ropeTheta, Llama3Rope llama3Rope, boolean tiedEmbeddings) {

    /** Llama 3.1 rope scaling parameters, as HF's {@code rope_scaling} states them. */
    public record Llama3Rope(double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
    }

    private static final Llama3Rope LLAMA3_ROPE = new Llama3Rope(32.0, 1.0, 4.0, 8192);

    /** meta-llama/Llama-3.2-1B config.json: 1.24 B parameters, tied embeddings. */
    public static final ModelShape LLAMA_3_2_1B = new ModelShape("llama-3.2-1b", 2048, 8192, 16, 32, 8, 64, 128256, 131072,
            500000.0, LLAMA3_ROPE, true);
    /** meta-llama/Llama-3.2-3B config.json: 3.21 B parameters, tied embeddings. */
    public static final ModelShape LLAMA_3_2_3B = new ModelShape("llama-3.2-3b", 3072, 8192, 28, 24, 8, 128, 128256, 131072,
            500000.0, LLAMA3_ROPE, true);
    /** meta-llama/Llama-3.1-8B config.json: 8.03 B parameters, separate output head. */
    public static final ModelShape LLAMA_3_1_8B = new ModelShape("llama-3.1-8b", 4096, 14336, 32, 32, 8, 128, 128256, 131072,
            500000.0, LLAMA3_ROPE, false);
    /** A few hundred thousand parameters with the 1B's proportions (grouped-query 4:1, tied): smoke tests, quick runs. */
    public static final ModelShape TINY = new ModelShape("tiny", 64, 256, 2, 4, 1, 16, 512, 256, 10000.0, null, true);

    public ModelShape {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a model shape needs a name");
        }
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headSize <= 0 || vocabSize <= 0
                || contextLength <= 0 || !(ropeTheta > 0) || heads % kvHeads != 0 || headSize % 2 != 0) {
            throw new IllegalArgumentException("invalid model shape " + name + ": dim " + dim + ", hidden " + hiddenDim
                    + ", layers " + layers + ", heads " + heads + "/" + kvHeads + " (a multiple of the KV heads), head size "
                    + headSize + " (even), vocab " + vocabSize + ", context " + contextLength + ", theta " + ropeTheta);
        }
    }

    /** The named presets. */
    public static List<ModelShape> presets() {
        return List.of(LLAMA_3_2_1B, LLAMA_3_2_3B, LLAMA_3_1_8B, TINY);
    }

    /** A preset by name (case-insensitive). */
    public static ModelShape named(String name) {
        for (ModelShape s : presets()) {
            if (s.name().equalsIgnoreCase(name.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown model shape '" + name + "'; known: "
                + presets().stream().map(ModelShape::name).toList());
    }

    public int qDim() {
        return heads * headSize;
    }

    public int kvDim() {
        return kvHeads * headSize;
    }

    /** Weights of the decoder: embedding, blocks, norms, and the output head if untied. */
    public long parameterCount() {
        long perBlock = 2L * dim                                        // attn_norm, ffn_norm
                + (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim   // wq, wk, wv, wo
                + 3L * dim * hiddenDim;                                 // gate, up, down
        return (long) vocabSize * dim * (tiedEmbeddings ? 1 : 2) + layers * perBlock + dim;
    }

    /** This shape with another context length (llama.context_length only: no tensor depends on it). */
    public ModelShape withContextLength(int n) {
        return new ModelShape(name, dim, hiddenDim, layers, heads, kvHeads, headSize, vocabSize, n, ropeTheta, llama3Rope, tiedEmbeddings);
    }

    /** The GGUF {@code llama.*} metadata describing this shape (the keys every loader produces). */
    public Map<String, Object> metadata() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        md.put("llama.embedding_length", dim);
        md.put("llama.feed_forward_length", hiddenDim);
        md.put("llama.block_count", layers);
        md.put("llama.attention.head_count", heads);
        md.put("llama.attention.head_count_kv", kvHeads);
        md.put("llama.attention.key_length", headSize);
        md.put("llama.attention.value_length", headSize);
        md.put("llama.context_length", contextLength);
        md.put("llama.rope.dimension_count", headSize);
        md.put("llama.rope.freq_base", (float) ropeTheta);
        md.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        md.put("llama.vocab_size", vocabSize);
        if (llama3Rope != null) {
            md.put("llama.rope.scaling.type", "llama3");
            md.put("llama.rope.scaling.factor", (float) llama3Rope.factor());
            md.put("llama.rope.scaling.low_freq_factor", (float) llama3Rope.lowFreqFactor());
            md.put("llama.rope.scaling.high_freq_factor", (float) llama3Rope.highFreqFactor());
            md.put("llama.rope.scaling.original_context_length", llama3Rope.originalContext());
        }
        return md;
    }

    @Override
    public String toString() {
        long p = parameterCount();
        return String.format(Locale.ROOT, "%s (dim %d, hidden %d, %d layers, %d/%d heads of %d, vocab %d, %s, %s parameters)",
                name, dim, hiddenDim, layers, heads, kvHeads, headSize, vocabSize, tiedEmbeddings ? "tied" : "untied",
                p >= 1e9 ? String.format(Locale.ROOT, "%.3f B", p / 1e9) : String.format(Locale.ROOT, "%.3f M", p / 1e6));
    }
}
