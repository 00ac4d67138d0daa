package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A synthetic Hugging Face Llama checkpoint (config.json + model.safetensors, real HF tensor names, random
 * weights), written byte by byte here, loaded by the safetensors loader and run by the Java forward, against the
 * float64 reference in HF's own semantics (rotate_half RoPE on the unpermuted q/k weights). This checks the
 * loader's q/k row permutation and the forward together, end to end.
 */
class SafetensorsForwardTest {

    @TempDir
    Path dir;

    @Test
    void anHfCheckpointMatchesTheFloat64ReferenceInHfSemantics() throws IOException {
        long seed = 31;
        // 6 heads of 8 over 2 KV heads, llama3 rope scaling with all three frequency bands, untied lm_head
        RefWeights w = RefWeights.random(seed, 48, 64, 2, 6, 2, 8, 101, 96, 8, 100.0, new double[]{4.0, 1.0, 4.0, 32}, false);
        write(w, dir);
        List<String> log = new ArrayList<>();
        ClassLoader loader = getClass().getClassLoader();
        try (ModelFile f = ModelFiles.open(dir, BuiltinTypes.registry(loader));
             Llama llama = Llama.load(f, Backends.discover(loader, log::add), List.of(), log::add)) {
            SplittableRandom r = new SplittableRandom(seed);
            int[] prompt = new int[25];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = r.nextInt(w.vocab());
            }
            Float64Reference ref = new Float64Reference(w, prompt.length + 6, true);
            try (LlamaSession s = llama.newSession(prompt.length + 6)) {
                float[][] rows = s.forwardAll(prompt, 0, prompt.length);
                float[] last = null;
                for (int i = 0; i < prompt.length; i++) {
                    double e = LlamaForwardTest.relativeError(rows[i], ref.step(prompt[i]));
                    assertSmall(e, "seed " + seed + " prefill position " + i);
                    last = rows[i];
                }
                for (int step = 0; step < 6; step++) {
                    int next = LlamaForwardTest.argmax(last);
                    last = s.forward(new int[]{next}, 0, 1);
                    assertSmall(LlamaForwardTest.relativeError(last, ref.step(next)), "seed " + seed + " decode step " + step);
                }
            }
        }
    }

    private static void assertSmall(double e, String what) {
        if (!(e <= 1e-4)) {
            throw new AssertionError(what + ": relative error " + e + " > 1e-4");
        }
    }

    /** config.json and one F32 model.safetensors: 8-byte LE header length, JSON header, then the raw tensors. */
    static void write(RefWeights w, Path dir) throws IOException {
        Map<String, float[]> t = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        int q = w.heads() * w.headSize(), kv = w.kvHeads() * w.headSize();
        put(t, shapes, "model.embed_tokens.weight", w.emb(), w.vocab(), w.dim());
        for (int l = 0; l < w.layers(); l++) {
            String p = "model.layers." + l + ".";
            put(t, shapes, p + "input_layernorm.weight", w.attnNorm()[l], w.dim());
            put(t, shapes, p + "self_attn.q_proj.weight", w.wq()[l], q, w.dim());
            put(t, shapes, p + "self_attn.k_proj.weight", w.wk()[l], kv, w.dim());
            put(t, shapes, p + "self_attn.v_proj.weight", w.wv()[l], kv, w.dim());
            put(t, shapes, p + "self_attn.o_proj.weight", w.wo()[l], w.dim(), q);
            put(t, shapes, p + "post_attention_layernorm.weight", w.ffnNorm()[l], w.dim());
            put(t, shapes, p + "mlp.gate_proj.weight", w.w1()[l], w.hidden(), w.dim());
            put(t, shapes, p + "mlp.up_proj.weight", w.w3()[l], w.hidden(), w.dim());
            put(t, shapes, p + "mlp.down_proj.weight", w.w2()[l], w.dim(), w.hidden());
        }
        put(t, shapes, "model.norm.weight", w.outNorm(), w.dim());
        if (!w.tied()) {
            put(t, shapes, "lm_head.weight", w.cls(), w.vocab(), w.dim());
        }
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (var e : t.entrySet()) {
            long bytes = 4L * e.getValue().length;
            header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(java.util.Arrays.toString(shapes.get(e.getKey())).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (float[] a : t.values()) {
            for (float v : a) {
                b.putFloat(v);
            }
        }
        Files.write(dir.resolve("model.safetensors"), b.array());
        double[] l3 = w.llama3();
        String scaling = l3 == null ? "null" : "{\"rope_type\": \"llama3\", \"factor\": " + l3[0] + ", \"low_freq_factor\": " + l3[1]
                + ", \"high_freq_factor\": " + l3[2] + ", \"original_max_position_embeddings\": " + (long) l3[3] + "}";
        Files.writeString(dir.resolve("config.json"), """
                {
                  "architectures": ["LlamaForCausalLM"],
                  "model_type": "llama",
                  "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d,
                  "num_attention_heads": %d, "num_key_value_heads": %d,
                  "rms_norm_eps": %s, "rope_theta": %s, "max_position_embeddings": %d, "vocab_size": %d,
                  "tie_word_embeddings": %s, "rope_scaling": %s, "torch_dtype": "float32"
                }
                """.formatted(w.dim(), w.hidden(), w.layers(), w.heads(), w.kvHeads(), w.eps(), w.theta(), w.seqLen(), w.vocab(),
                w.tied(), scaling));
    }

    private static void put(Map<String, float[]> t, Map<String, long[]> shapes, String name, float[] data, long... shape) {
        t.put(name, data);
        shapes.put(name, shape);
    }
}
