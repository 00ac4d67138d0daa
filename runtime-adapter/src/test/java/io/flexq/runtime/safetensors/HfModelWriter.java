package io.flexq.runtime.safetensors;

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
import java.util.Random;

/**
 * Test-side generator of small random HF Llama checkpoints: config.json and safetensors files written
 * byte by byte from the format description (8-byte LE header length, JSON header, data), so the loader
 * is checked against files it did not produce.
 */
final class HfModelWriter {

    record Dims(int hidden, int inter, int layers, int heads, int kvHeads, int vocab) {
        int headDim() {
            return hidden / heads;
        }
    }

    /** One HF tensor: PyTorch shape (rows first), float64 values, stored as {@code dtype}. */
    record Tensor(String name, long[] shape, double[] values, String dtype) {
        byte[] bytes() {
            ByteBuffer b = ByteBuffer.allocate(values.length * (dtype.equals("F32") ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) {
                float f = (float) v;
                switch (dtype) {
                    case "F32" -> b.putFloat(f);
                    case "F16" -> b.putShort(Float.floatToFloat16(f));
                    case "BF16" -> b.putShort((short) (Float.floatToRawIntBits(f) >>> 16));   // values are pre-rounded
                    default -> throw new IllegalArgumentException(dtype);
                }
            }
            return b.array();
        }
    }

    /** Random weights under real HF Llama names; values are exactly representable in {@code dtype}. */
    static Map<String, Tensor> randomModel(Dims d, boolean withLmHead, String dtype, long seed) {
        Random rnd = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        int q = d.heads() * d.headDim(), kv = d.kvHeads() * d.headDim();
        add(m, rnd, "model.embed_tokens.weight", dtype, d.vocab(), d.hidden());
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            add(m, rnd, p + "input_layernorm.weight", dtype, d.hidden());
            add(m, rnd, p + "self_attn.q_proj.weight", dtype, q, d.hidden());
            add(m, rnd, p + "self_attn.k_proj.weight", dtype, kv, d.hidden());
            add(m, rnd, p + "self_attn.v_proj.weight", dtype, kv, d.hidden());
            add(m, rnd, p + "self_attn.o_proj.weight", dtype, d.hidden(), q);
            add(m, rnd, p + "post_attention_layernorm.weight", dtype, d.hidden());
            add(m, rnd, p + "mlp.gate_proj.weight", dtype, d.inter(), d.hidden());
            add(m, rnd, p + "mlp.up_proj.weight", dtype, d.inter(), d.hidden());
            add(m, rnd, p + "mlp.down_proj.weight", dtype, d.hidden(), d.inter());
        }
        add(m, rnd, "model.norm.weight", dtype, d.hidden());
        if (withLmHead) {
            add(m, rnd, "lm_head.weight", dtype, d.vocab(), d.hidden());
        }
        return m;
    }

    private static void add(Map<String, Tensor> m, Random rnd, String name, String dtype, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            float f = (float) rnd.nextGaussian();
            v[i] = switch (dtype) {
                case "F16" -> Float.float16ToFloat(Float.floatToFloat16(f));
                case "BF16" -> Float.intBitsToFloat(Float.floatToRawIntBits(f) & 0xffff0000);
                default -> f;
            };
        }
        m.put(name, new Tensor(name, shape, v, dtype));
    }

    static String config(Dims d, boolean tied, String extra) {
        return "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n"
                + "  \"hidden_size\": " + d.hidden() + ",\n  \"intermediate_size\": " + d.inter() + ",\n"
                + "  \"num_hidden_layers\": " + d.layers() + ",\n  \"num_attention_heads\": " + d.heads() + ",\n"
                + "  \"num_key_value_heads\": " + d.kvHeads() + ",\n  \"rms_norm_eps\": 1e-05,\n"
                + "  \"rope_theta\": 500000.0,\n  \"max_position_embeddings\": 96,\n  \"vocab_size\": " + d.vocab() + ",\n"
                + "  \"tie_word_embeddings\": " + tied + ",\n  \"torch_dtype\": \"float32\"" + extra + "\n}\n";
    }

    /** Writes one safetensors file holding {@code tensors} in the given order; returns the path. */
    static Path writeSafetensors(Path file, List<Tensor> tensors) throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Tensor t : tensors) {
            byte[] b = t.bytes();
            blobs.add(b);
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) json.append(i == 0 ? "" : ",").append(t.shape()[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + b.length).append("]}");
            offset += b.length;
        }
        json.append('}');
        while ((json.length() + 8) % 8 != 0) json.append(' ');   // the reference writer pads the header with spaces
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (byte[] b : blobs) out.put(b);
        return Files.write(file, out.array());
    }

    /** The whole model as one model.safetensors + config.json in {@code dir}. */
    static void writeModel(Path dir, Dims d, Map<String, Tensor> tensors, boolean tied, String extraConfig) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config(d, tied, extraConfig));
        writeSafetensors(dir.resolve("model.safetensors"), List.copyOf(tensors.values()));
    }

    /** The model split over two shards with a model.safetensors.index.json. */
    static void writeSharded(Path dir, Dims d, Map<String, Tensor> tensors, boolean tied) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config(d, tied, ""));
        List<Tensor> all = List.copyOf(tensors.values());
        List<Tensor> a = all.subList(0, all.size() / 2), b = all.subList(all.size() / 2, all.size());
        String n1 = "model-00001-of-00002.safetensors", n2 = "model-00002-of-00002.safetensors";
        writeSafetensors(dir.resolve(n1), a);
        writeSafetensors(dir.resolve(n2), b);
        StringBuilder idx = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        boolean first = true;
        for (Tensor t : all) {
            idx.append(first ? "" : ",").append('"').append(t.name()).append("\":\"").append(a.contains(t) ? n1 : n2).append('"');
            first = false;
        }
        idx.append("}}");
        Files.writeString(dir.resolve("model.safetensors.index.json"), idx);
    }
}
