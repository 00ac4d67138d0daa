package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.Fq6File;
import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.json.Json;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code flexq quantize} from a Hugging Face safetensors folder (config.json + model.safetensors, F32). */
class SafetensorsQuantizeTest {

    static final long SEED = 31337L;

    @TempDir
    Path dir;

    /** A random HF Llama (hidden 128, intermediate 256, 1 layer, 4 heads, 2 KV heads, vocab 512) as float32 tensors. */
    Map<String, float[][]> writeModel(Path model) throws Exception {
        return writeModel(model, 1, 256);
    }

    /** As above with {@code layers} blocks of intermediate size {@code intermediate} (the tensors drawn in the same order). */
    static Map<String, float[][]> writeModel(Path model, int layers, int intermediate) throws Exception {
        Files.createDirectories(model);
        Random rnd = new Random(SEED);
        Map<String, float[][]> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", rand(rnd, 512, 128, 0.1));
        for (int b = 0; b < layers; b++) {
            String l = "model.layers." + b + ".";
            t.put(l + "input_layernorm.weight", ones(128));
            t.put(l + "self_attn.q_proj.weight", rand(rnd, 128, 128, 0.09));
            t.put(l + "self_attn.k_proj.weight", rand(rnd, 64, 128, 0.09));
            t.put(l + "self_attn.v_proj.weight", rand(rnd, 64, 128, 0.09));
            t.put(l + "self_attn.o_proj.weight", rand(rnd, 128, 128, 0.09));
            t.put(l + "post_attention_layernorm.weight", ones(128));
            t.put(l + "mlp.gate_proj.weight", rand(rnd, intermediate, 128, 0.09));
            t.put(l + "mlp.up_proj.weight", rand(rnd, intermediate, 128, 0.09));
            t.put(l + "mlp.down_proj.weight", rand(rnd, 128, intermediate, 0.06));
        }
        t.put("model.norm.weight", ones(128));
        Files.writeString(model.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
                 "rope_theta": 10000.0, "max_position_embeddings": 256, "vocab_size": 512, "tie_word_embeddings": true,
                 "torch_dtype": "float32"}
                """.formatted(intermediate, layers));
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (var e : t.entrySet()) {
            float[][] m = e.getValue();
            long bytes = 4L * m.length * m[0].length;
            json.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(m.length == 1 ? "[" + m[0].length + "]" : "[" + m.length + "," + m[0].length + "]")
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        while (json.length() % 8 != 0) json.append(' ');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (float[][] m : t.values()) for (float[] row : m) for (float f : row) out.putFloat(f);
        Files.write(model.resolve("model.safetensors"), out.array());
        return t;
    }

    static float[][] rand(Random rnd, int rows, int cols, double std) {
        float[][] m = new float[rows][cols];
        for (float[] r : m) for (int i = 0; i < cols; i++) r[i] = (float) (rnd.nextGaussian() * std);
        return m;
    }

    static float[][] ones(int n) {
        float[][] m = new float[1][n];
        java.util.Arrays.fill(m[0], 1f);
        return m;
    }

    @Test
    void quantizesAnHfFolderAndRunsAgainstIt() throws Exception {
        Path model = dir.resolve("hf");
        Map<String, float[][]> t = writeModel(model);
        Path tok = CliRun.root().resolve("models/tok512.bin");
        Path out = dir.resolve("hf.fq6.gguf");
        CliRun r = CliRun.of("quantize", model.toString(), out.toString(), "--preset", "a6", "--tokenizer", tok.toString(),
                "--no-gptq", "--head", "keep");
        assertEquals(0, r.status(), r.err());
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(getClass().getClassLoader()))) {
            assertEquals(7, f.fq6Tensors().size());
            assertEquals("safetensors", f.gguf().metadata().getString(Fq6Keys.SOURCE_FORMAT));
            // ffn_up is not permuted by the loader: its FQ6 codes are the quantizer's on the HF up_proj rows
            float[][] up = t.get("model.layers.0.mlp.up_proj.weight");
            float[] flat = new float[256 * 128];
            for (int i = 0; i < 256; i++) System.arraycopy(up[i], 0, flat, i * 128, 128);
            FlexqWeights want = WeightQuantizer.clipping().quantize("up", flat, 256, 128).weights();
            FlexqWeights got = f.weights("blk.0.ffn_up.weight");
            assertArrayEquals(want.copyCodes(), got.copyCodes(), "seed " + SEED);
            assertArrayEquals(want.copyScalesFp16(), got.copyScalesFp16(), "seed " + SEED);
        }
        Path text = Files.writeString(dir.resolve("t.txt"), CliRun.story());
        CliRun e = CliRun.of("eval", out.toString(), "--ref", model.toString(), "--tokenizer", tok.toString(), "--text", text.toString(),
                "--ctx", "64", "--windows", "2", "--json");
        assertEquals(0, e.status(), e.err());
        Map<String, Object> j = Json.parseObject(e.out().strip(), "eval");
        double kld = ((Number) j.get("kld_mean")).doubleValue();
        assertTrue(kld > 0 && kld < 0.5, "W6A6 of a random model vs itself in float: " + kld);
    }
}
