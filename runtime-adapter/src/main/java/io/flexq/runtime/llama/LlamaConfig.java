package io.flexq.runtime.llama;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;

import java.util.Locale;

/**
 * The shape of a Llama model, read from GGUF-style metadata ({@code llama.*} keys; every loader speaks them).
 *
 * @param dim            embedding_length: width of the residual stream
 * @param hiddenDim      feed_forward_length: width of the SwiGLU MLP
 * @param layers         block_count
 * @param heads          attention.head_count (query heads)
 * @param kvHeads        attention.head_count_kv (heads / kvHeads query heads share one key/value head)
 * @param headSize       attention.key_length if present, else dim / heads
 * @param vocabSize      rows of token_embd.weight
 * @param contextLength  context_length the model was trained for
 * @param ropeDim        rope.dimension_count: the first ropeDim dims of each head are rotated, in adjacent pairs
 * @param ropeTheta      rope.freq_base (default 10000)
 * @param rmsEps         attention.layer_norm_rms_epsilon
 * @param ropeScaling    frequency scaling for long contexts
 */
public record LlamaConfig(int dim, int hiddenDim, int layers, int heads, int kvHeads, int headSize, int vocabSize,
                          int contextLength, int ropeDim, double ropeTheta, float rmsEps, RopeScaling ropeScaling) {

    public LlamaConfig {
        String problem = null;
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headSize <= 0 || vocabSize <= 0 || contextLength <= 0) {
            problem = "sizes must be positive";
        } else if (heads % kvHeads != 0) {
            problem = "head_count " + heads + " is not a multiple of head_count_kv " + kvHeads;
        } else if (ropeDim <= 0 || ropeDim % 2 != 0 || ropeDim > headSize) {
            problem = "rope.dimension_count " + ropeDim + " must be even and at most the head size " + headSize;
        } else if (!(ropeTheta > 0) || !(rmsEps > 0) || Double.isInfinite(ropeTheta) || Float.isInfinite(rmsEps)) {
            problem = "rope.freq_base and layer_norm_rms_epsilon must be finite and positive";
        }
        if (problem != null) {
            throw new IllegalArgumentException("invalid Llama config (" + problem + "): dim " + dim + ", hidden " + hiddenDim
                    + ", layers " + layers + ", heads " + heads + "/" + kvHeads + ", head size " + headSize + ", vocab " + vocabSize
                    + ", context " + contextLength + ", rope dims " + ropeDim + ", theta " + ropeTheta + ", eps " + rmsEps);
        }
    }

    /** This config with another context length (e.g. to compare two files that differ only in it). */
    public LlamaConfig withContextLength(int n) {
        return new LlamaConfig(dim, hiddenDim, layers, heads, kvHeads, headSize, vocabSize, Math.max(1, n), ropeDim, ropeTheta, rmsEps, ropeScaling);
    }

    /** Width of all query heads together (= dim for every Llama so far). */
    public int qDim() {
        return heads * headSize;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return kvHeads * headSize;
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** The config of a model file: its metadata, plus the vocabulary size from token_embd.weight and rope_freqs.weight if present. */
    public static LlamaConfig from(ModelFile file) {
        Metadata md = file.metadata();
        TensorEntry embedding = file.tensor("token_embd.weight");
        if (embedding.rows() > Integer.MAX_VALUE) {
            throw new ModelFormatException(file.path() + ": token_embd.weight has " + embedding.rows() + " rows");
        }
        RopeScaling stored = null;
        TensorEntry freqs = file.tensors().get("rope_freqs.weight");
        if (freqs != null) {
            float[] divisors = new float[(int) freqs.elementCount()];
            freqs.type().dequantizeRow(freqs.data(), 0, divisors.length, divisors, 0);
            stored = new RopeScaling.Divisors(divisors);
        }
        LlamaConfig config = from(md, (int) embedding.rows(), stored);
        if (embedding.cols() != config.dim()) {
            throw new ModelFormatException(file.path() + ": token_embd.weight has " + embedding.cols()
                    + " columns but llama.embedding_length is " + config.dim());
        }
        if (stored != null && ((RopeScaling.Divisors) stored).divisors().length != config.ropeDim() / 2) {
            throw new ModelFormatException(file.path() + ": rope_freqs.weight has " + ((RopeScaling.Divisors) stored).divisors().length
                    + " elements, expected rope.dimension_count / 2 = " + config.ropeDim() / 2);
        }
        return config;
    }

    /**
     * The config described by {@code md}.
     *
     * @param storedScaling frequency divisors stored as a tensor (rope_freqs.weight), or null; they take precedence over the keys
     */
    public static LlamaConfig from(Metadata md, int vocabSize, RopeScaling storedScaling) {
        String arch = md.getString("general.architecture", null);
        if (!"llama".equals(arch)) {
            throw new ModelFormatException(md.source() + ": general.architecture is "
                    + (arch == null ? "missing" : "'" + arch + "'") + "; this runtime runs 'llama' models only");
        }
        int dim = md.getInt("llama.embedding_length");
        int heads = md.getInt("llama.attention.head_count");
        int kvHeads = md.getInt("llama.attention.head_count_kv", heads);
        int headSize;
        if (md.has("llama.attention.key_length")) {
            headSize = md.getInt("llama.attention.key_length");
            int valueLength = md.getInt("llama.attention.value_length", headSize);
            if (valueLength != headSize) {
                throw new ModelFormatException(md.source() + ": llama.attention.value_length " + valueLength
                        + " differs from key_length " + headSize + "; not supported");
            }
        } else {
            if (heads <= 0 || dim % heads != 0) {
                throw new ModelFormatException(md.source() + ": llama.embedding_length " + dim
                        + " is not a multiple of llama.attention.head_count " + heads);
            }
            headSize = dim / heads;
        }
        int ropeDim = md.getInt("llama.rope.dimension_count", headSize);
        double theta = md.getDouble("llama.rope.freq_base", 10000.0);
        if (!(theta > 1) || Double.isInfinite(theta)) {
            throw bad(md, "llama.rope.freq_base", theta, "must be finite and above 1 (the rotary frequencies are theta^(-2i/d))");
        }
        double eps = md.getDouble("llama.attention.layer_norm_rms_epsilon");
        if (!(eps > 0 && eps < 1)) {
            throw bad(md, "llama.attention.layer_norm_rms_epsilon", eps, "must lie in (0, 1) (real models use 1e-6 .. 1e-5)");
        }
        if (storedScaling instanceof RopeScaling.Divisors(float[] divisors)) {
            for (int i = 0; i < divisors.length; i++) {
                if (!(divisors[i] > 0) || Float.isInfinite(divisors[i])) {
                    throw new ModelFormatException(md.source() + ": tensor rope_freqs.weight element " + i + " is " + divisors[i]
                            + "; frequency divisors must be finite and positive");
                }
            }
        }
        RopeScaling scaling = storedScaling != null ? storedScaling : scalingFromKeys(md);
        try {
            return new LlamaConfig(dim, md.getInt("llama.feed_forward_length"), md.getInt("llama.block_count"), heads, kvHeads,
                    headSize, vocabSize, md.getInt("llama.context_length"), ropeDim, theta, (float) eps, scaling);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.source() + ": " + e.getMessage(), e);
        }
    }

    /**
     * GGUF keys llama.rope.scaling.type ("none", "linear", "llama3"), .factor, .original_context_length, and for
     * llama3 .low_freq_factor (default 1) and .high_freq_factor (default 4), as in HF's rope_scaling; also the
     * older llama.rope.scale_linear.
     */
    private static RopeScaling scalingFromKeys(Metadata md) {
        String type = md.getString("llama.rope.scaling.type", null);
        if (type == null) {
            double linear = positive(md, "llama.rope.scale_linear", md.getDouble("llama.rope.scale_linear", 1.0));
            return linear == 1.0 ? new RopeScaling.None() : new RopeScaling.Linear(linear);
        }
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "none" -> new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(positive(md, "llama.rope.scaling.factor", md.getDouble("llama.rope.scaling.factor")));
            case "llama3" -> {
                double factor = positive(md, "llama.rope.scaling.factor", md.getDouble("llama.rope.scaling.factor"));
                double low = positive(md, "llama.rope.scaling.low_freq_factor", md.getDouble("llama.rope.scaling.low_freq_factor", 1.0));
                double high = positive(md, "llama.rope.scaling.high_freq_factor", md.getDouble("llama.rope.scaling.high_freq_factor", 4.0));
                if (!(high > low)) {
                    throw new ModelFormatException(md.source() + ": llama3 rope scaling needs llama.rope.scaling.high_freq_factor > "
                            + "llama.rope.scaling.low_freq_factor, got " + high + " and " + low);
                }
                int original = md.getInt("llama.rope.scaling.original_context_length");
                if (original <= 0) {
                    throw bad(md, "llama.rope.scaling.original_context_length", original, "must be positive");
                }
                yield new RopeScaling.Llama3(factor, low, high, original);
            }
            default -> throw new ModelFormatException(md.source() + ": llama.rope.scaling.type '" + type
                    + "' is not supported (supported: none, linear, llama3)");
        };
    }

    private static double positive(Metadata md, String key, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw bad(md, key, v, "must be finite and positive");
        }
        return v;
    }

    private static ModelFormatException bad(Metadata md, String key, double v, String rule) {
        return new ModelFormatException(md.source() + ": metadata key '" + key + "' = " + v + " " + rule);
    }
}
