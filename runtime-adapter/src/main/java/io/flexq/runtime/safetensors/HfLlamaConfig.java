package io.flexq.runtime.safetensors;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parts of an HF {@code config.json} (LlamaForCausalLM) a Llama forward needs, and their GGUF keys.
 * Required: hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size.
 * Optional with HF's LlamaConfig defaults: num_key_value_heads (= num_attention_heads), head_dim
 * (= hidden_size / num_attention_heads), rms_norm_eps (1e-6), rope_theta (10000), max_position_embeddings
 * (2048), tie_word_embeddings (false), rope_scaling (none; "linear" and "llama3" are understood).
 */
record HfLlamaConfig(Path path, int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads, int headDim,
                     boolean explicitHeadDim, float rmsEps, float ropeTheta, long contextLength, int vocabSize,
                     boolean tiedEmbeddings, RopeScaling ropeScaling, String name) {

    /**
     * rope_scaling of config.json. For "llama3" (Llama 3.1+): factor, low_freq_factor, high_freq_factor,
     * original_max_position_embeddings (HF defaults 8, 1, 4, 8192); for "linear": factor.
     */
    record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, long originalContext) {
    }

    static HfLlamaConfig read(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Object> c;
        try {
            c = Json.parseObject(text, path.toString());
        } catch (Json.JsonException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
        Object modelType = c.get("model_type");
        if (modelType != null && !modelType.equals("llama") && !modelType.equals("mistral")) {
            throw new ModelFormatException(path + ": model_type '" + modelType + "' is not a Llama; only Llama-architecture models load");
        }
        int hidden = positiveInt(c, path, "hidden_size", null);
        int heads = positiveInt(c, path, "num_attention_heads", null);
        int kvHeads = positiveInt(c, path, "num_key_value_heads", heads);
        boolean explicitHeadDim = c.get("head_dim") != null;
        if (!explicitHeadDim && hidden % heads != 0) {
            throw new ModelFormatException(path + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        }
        int headDim = positiveInt(c, path, "head_dim", hidden / heads);
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(path + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException(path + ": head_dim " + headDim + " is odd; RoPE rotates pairs");
        }
        Object tie = c.getOrDefault("tie_word_embeddings", Boolean.FALSE);
        if (!(tie instanceof Boolean tied)) {
            throw new ModelFormatException(path + ": tie_word_embeddings should be true or false, is " + tie);
        }
        Object nameOrPath = c.get("_name_or_path");
        return new HfLlamaConfig(path, hidden, positiveInt(c, path, "intermediate_size", null),
                positiveInt(c, path, "num_hidden_layers", null), heads, kvHeads, headDim, explicitHeadDim,
                (float) positiveNumber(c, path, "rms_norm_eps", 1e-6), (float) positiveNumber(c, path, "rope_theta", 10000.0),
                positiveInt(c, path, "max_position_embeddings", 2048), positiveInt(c, path, "vocab_size", null),
                tied, ropeScaling(c, path),
                nameOrPath instanceof String s && !s.isEmpty() ? s : path.toAbsolutePath().getParent().getFileName().toString());
    }

    private static RopeScaling ropeScaling(Map<String, Object> c, Path path) {
        Object v = c.get("rope_scaling");
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> raw)) {
            throw new ModelFormatException(path + ": rope_scaling should be an object or null, is " + v);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) raw;
        // older configs name it "type", newer ones "rope_type"
        Object type = m.getOrDefault("rope_type", m.get("type"));
        String where = path + " rope_scaling";
        return switch (String.valueOf(type)) {
            case "llama3" -> {
                RopeScaling s = new RopeScaling("llama3", positiveNumber(m, where, "factor", 8.0),
                        positiveNumber(m, where, "low_freq_factor", 1.0), positiveNumber(m, where, "high_freq_factor", 4.0),
                        positiveInt(m, where, "original_max_position_embeddings", 8192));
                if (s.lowFreqFactor() >= s.highFreqFactor()) {
                    throw new ModelFormatException(where + ": low_freq_factor " + s.lowFreqFactor()
                            + " must be below high_freq_factor " + s.highFreqFactor());
                }
                yield s;
            }
            case "linear" -> new RopeScaling("linear", positiveNumber(m, where, "factor", null), 0, 0, 0);
            case "default" -> null;
            default -> throw new ModelFormatException(where + ": type '" + type
                    + "' is not supported (llama3 and linear are); the forward would compute wrong positions");
        };
    }

    /**
     * The GGUF keys llama.cpp's converter writes for this config (u32 values as Long, f32 as Float, as a
     * GGUF reader would return them). rope_scaling adds {@code llama.rope.scaling.type} ("linear" or
     * "llama3") and {@code llama.rope.scaling.factor}; llama3 also {@code .original_context_length},
     * {@code .low_freq_factor}, {@code .high_freq_factor} (the last two are FlexQ-J's names: llama.cpp
     * has no keys for them and carries llama3 scaling only as the {@code rope_freqs.weight} tensor,
     * see {@link #ropeFreqFactors()}).
     */
    Map<String, Object> metadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("general.architecture", "llama");
        m.put("general.name", name);
        m.put("llama.vocab_size", (long) vocabSize);
        m.put("llama.context_length", contextLength);
        m.put("llama.embedding_length", (long) hiddenSize);
        m.put("llama.block_count", (long) layers);
        m.put("llama.feed_forward_length", (long) intermediateSize);
        m.put("llama.rope.dimension_count", (long) headDim);
        m.put("llama.attention.head_count", (long) heads);
        m.put("llama.attention.head_count_kv", (long) kvHeads);
        m.put("llama.rope.freq_base", ropeTheta);
        m.put("llama.attention.layer_norm_rms_epsilon", rmsEps);
        if (explicitHeadDim) {
            m.put("llama.attention.key_length", (long) headDim);
            m.put("llama.attention.value_length", (long) headDim);
        }
        if (ropeScaling != null) {
            m.put("llama.rope.scaling.type", ropeScaling.type());
            m.put("llama.rope.scaling.factor", (float) ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                m.put("llama.rope.scaling.original_context_length", ropeScaling.originalContext());
                m.put("llama.rope.scaling.low_freq_factor", (float) ropeScaling.lowFreqFactor());
                m.put("llama.rope.scaling.high_freq_factor", (float) ropeScaling.highFreqFactor());
            }
        }
        return m;
    }

    /**
     * For llama3 rope scaling, the per-pair divisors llama.cpp stores as {@code rope_freqs.weight}
     * (F32, head_dim / 2 values), null otherwise. Pair i has base frequency f_i = theta^(-2i/d) and
     * wavelength w_i = 2 pi / f_i; with L = original_max_position_embeddings, lo/hi the freq factors:
     * divisor = 1 when w_i < L / hi, = factor when w_i > L / lo, else 1 / ((1 - s) / factor + s) with
     * s = (L / w_i - lo) / (hi - lo). The forward uses frequency f_i / divisor_i: the same frequencies
     * HF's "llama3" rope computes.
     */
    float[] ropeFreqFactors() {
        if (ropeScaling == null || !ropeScaling.type().equals("llama3")) {
            return null;
        }
        double factor = ropeScaling.factor(), lo = ropeScaling.lowFreqFactor(), hi = ropeScaling.highFreqFactor();
        double ctx = ropeScaling.originalContext();
        float[] out = new float[headDim / 2];
        for (int i = 0; i < out.length; i++) {
            double freq = Math.pow(ropeTheta, -2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < ctx / hi) {
                out[i] = 1f;
            } else if (wavelen > ctx / lo) {
                out[i] = (float) factor;
            } else {
                double s = (ctx / wavelen - lo) / (hi - lo);
                out[i] = (float) (1 / ((1 - s) / factor + s));
            }
        }
        return out;
    }

    private static int positiveInt(Map<String, Object> c, Object where, String key, Integer dflt) {
        Object v = c.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new ModelFormatException(where + ": missing required key \"" + key + "\"");
            }
            return dflt;
        }
        if (!(v instanceof Long l) || l <= 0 || l > Integer.MAX_VALUE) {
            throw new ModelFormatException(where + ": \"" + key + "\" = " + v + " is not a positive 32-bit integer");
        }
        return (int) (long) l;
    }

    private static double positiveNumber(Map<String, Object> c, Object where, String key, Double dflt) {
        Object v = c.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new ModelFormatException(where + ": missing required key \"" + key + "\"");
            }
            return dflt;
        }
        if (!(v instanceof Number n) || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) {
            throw new ModelFormatException(where + ": \"" + key + "\" = " + v + " is not a positive number");
        }
        return n.doubleValue();
    }
}
