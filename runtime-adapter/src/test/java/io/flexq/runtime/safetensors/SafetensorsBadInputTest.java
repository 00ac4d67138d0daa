package io.flexq.runtime.safetensors;

import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken safetensors models: each a ModelFormatException naming the file and the fault. */
@Timeout(60)
class SafetensorsBadInputTest {

    static final HfModelWriter.Dims DIMS = SafetensorsFileTest.DIMS;

    @TempDir
    Path dir;

    /** Opening {@code p} must fail; the message must contain {@code named} (a file) and every fragment. */
    static ModelFormatException refused(Path p, Path named, String... fragments) {
        var e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(p, SafetensorsFileTest.TYPES).close(), p.toString());
        String msg = e.getMessage();
        assertTrue(msg.contains(named.toString()), "message should name " + named + ": " + msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), "message should contain '" + f + "': " + msg);
        }
        return e;
    }

    private Path model(String name, Map<String, HfModelWriter.Tensor> tensors, boolean tied, String extra) throws IOException {
        Path m = dir.resolve(name);
        HfModelWriter.writeModel(m, DIMS, tensors, tied, extra);
        return m;
    }

    private static Map<String, HfModelWriter.Tensor> valid(long seed) {
        return HfModelWriter.randomModel(DIMS, true, "F32", seed);
    }

    /** A model dir whose model.safetensors is {@code header JSON} + {@code dataBytes} zero bytes, with a given length field. */
    private Path rawFile(String name, long lengthField, String header, int dataBytes) throws IOException {
        Path m = dir.resolve(name);
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), HfModelWriter.config(DIMS, false, ""));
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthField).put(h);
        Files.write(m.resolve("model.safetensors"), b.array());
        return m;
    }

    @Test
    void truncatedFilesAreRefusedAtManyCutPoints() throws IOException {
        Path m = model("cut", valid(1), false, "");
        Path st = m.resolve("model.safetensors");
        byte[] full = Files.readAllBytes(st);
        assertDoesNotThrow(() -> SafetensorsFile.open(m, SafetensorsFileTest.TYPES).close());
        int headerEnd = 8 + (int) ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        List<Integer> cuts = new ArrayList<>(List.of(0, 4, 7, 8, 9, 100, headerEnd - 1, headerEnd, headerEnd + 1, full.length - 1));
        for (int i = 1; i < 20; i++) cuts.add(headerEnd + (full.length - headerEnd) * i / 20);
        for (int cut : cuts) {
            Files.write(st, Arrays.copyOf(full, cut));
            refused(m, st);
        }
    }

    @Test
    void badHeaderLengthsAreNamed() throws IOException {
        String ok = "{\"__metadata__\":{\"format\":\"pt\"}}";
        Path a = rawFile("len-huge", Long.MAX_VALUE, ok, 0);
        refused(a, a.resolve("model.safetensors"), "header length 9223372036854775807", "impossible");
        Path b = rawFile("len-neg", -1L, ok, 0);
        refused(b, b.resolve("model.safetensors"), "18446744073709551615");
        Path c = rawFile("len-past", ok.length() + 100, ok, 0);
        refused(c, c.resolve("model.safetensors"), "truncated?");
        Path d = rawFile("len-short", 5, ok, 0);
        refused(d, d.resolve("model.safetensors"), "safetensors header");
        Path e = rawFile("notjson", 7, "GGUF...", 0);
        refused(e, e.resolve("model.safetensors"), "safetensors header");
        Path tiny = dir.resolve("tiny");
        Files.createDirectories(tiny);
        Files.writeString(tiny.resolve("config.json"), HfModelWriter.config(DIMS, false, ""));
        Files.write(tiny.resolve("model.safetensors"), new byte[]{1, 2, 3});
        refused(tiny, tiny.resolve("model.safetensors"), "truncated", "3 bytes");
    }

    @Test
    void offsetsOutsideTheDataAndDtypeShapeMismatchesAreNamed() throws IOException {
        String h = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[32],\"data_offsets\":[0,128]}}";
        Path a = rawFile("outside", h.length(), h, 64);
        refused(a, a.resolve("model.safetensors"), "model.norm.weight", "[0, 128]", "outside");
        String rev = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[32],\"data_offsets\":[128,0]}}";
        Path r = rawFile("reversed", rev.length(), rev, 256);
        refused(r, r.resolve("model.safetensors"), "model.norm.weight", "outside");
        String mis = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[32],\"data_offsets\":[0,64]}}";
        Path s = rawFile("mismatch", mis.length(), mis, 64);
        refused(s, s.resolve("model.safetensors"), "model.norm.weight", "needs 128 bytes", "give 64");
        String f16 = "{\"model.norm.weight\":{\"dtype\":\"F16\",\"shape\":[32],\"data_offsets\":[0,128]}}";
        Path t = rawFile("f16size", f16.length(), f16, 128);
        refused(t, t.resolve("model.safetensors"), "needs 64 bytes");
        String ov = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,0]}}";
        Path o = rawFile("overflow", ov.length(), ov, 0);
        refused(o, o.resolve("model.safetensors"), "'x'", "overflows");
        String neg = "{\"x\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,0]}}";
        Path n = rawFile("negshape", neg.length(), neg, 0);
        refused(n, n.resolve("model.safetensors"), "'x'", "shape");
        String nodt = "{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path nd = rawFile("nodtype", nodt.length(), nodt, 4);
        refused(nd, nd.resolve("model.safetensors"), "'x'", "dtype");
    }

    @Test
    void unsupportedDtypesWrongShapesAndUnknownTensorsAreNamed() throws IOException {
        Map<String, HfModelWriter.Tensor> m = new LinkedHashMap<>(valid(2));
        String q = "model.layers.1.self_attn.q_proj.weight";
        Path st = model("dtype", m, false, "").resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\"" + q + "\":{\"dtype\":\"F32\"") + q.length() + 13;
        bytes[at] = 'I';   // "F32" -> "I32": same size, unsupported dtype
        Files.write(st, bytes);
        refused(st.getParent(), st, q, "dtype I32", "F32, F16 and BF16");

        Map<String, HfModelWriter.Tensor> w = new LinkedHashMap<>(valid(3));
        String k = "model.layers.0.self_attn.k_proj.weight";
        HfModelWriter.Tensor kt = w.get(k);
        w.put(k, new HfModelWriter.Tensor(k, new long[]{kt.shape()[1], kt.shape()[0]}, kt.values(), "F32"));  // transposed
        Path ws = model("shape", w, false, "").resolve("model.safetensors");
        refused(ws.getParent(), ws, k, "[32, 16]", "config.json implies ne [32, 16]");

        Map<String, HfModelWriter.Tensor> u = new LinkedHashMap<>(valid(4));
        u.put("model.layers.0.self_attn.q_norm.weight", new HfModelWriter.Tensor("model.layers.0.self_attn.q_norm.weight",
                new long[]{8}, new double[8], "F32"));
        Path us = model("unknown", u, false, "").resolve("model.safetensors");
        refused(us.getParent(), us, "model.layers.0.self_attn.q_norm.weight", "not part of an HF Llama model");

        Map<String, HfModelWriter.Tensor> l = new LinkedHashMap<>(valid(5));
        l.put("model.layers.7.input_layernorm.weight", new HfModelWriter.Tensor("model.layers.7.input_layernorm.weight",
                new long[]{32}, new double[32], "F32"));
        Path ls = model("layer", l, false, "").resolve("model.safetensors");
        refused(ls.getParent(), ls, "layer 7", "num_hidden_layers 2");
    }

    @Test
    void missingTensorsAndConfigKeysAreNamed() throws IOException {
        Map<String, HfModelWriter.Tensor> m = new LinkedHashMap<>(valid(6));
        m.remove("model.layers.1.mlp.up_proj.weight");
        Path a = model("missing", m, false, "");
        refused(a, a, "blk.1.ffn_up.weight");
        Path b = model("nohead", HfModelWriter.randomModel(DIMS, false, "F32", 7), false, "");
        refused(b, b, "output.weight", "tie_word_embeddings is false");

        for (String key : List.of("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size")) {
            Path c = model("nokey-" + key, valid(8), false, "");
            String cfg = Files.readString(c.resolve("config.json")).replaceAll("\\s*\"" + key + "\": [0-9]+,", "");
            Files.writeString(c.resolve("config.json"), cfg);
            refused(c, c.resolve("config.json"), "missing required key \"" + key + "\"");
        }
        Path d = model("badval", valid(9), false, "");
        Files.writeString(d.resolve("config.json"), Files.readString(d.resolve("config.json")).replace("\"num_attention_heads\": 4", "\"num_attention_heads\": -4"));
        refused(d, d.resolve("config.json"), "num_attention_heads", "-4");
        Path e = model("hugelayers", valid(10), false, "");
        Files.writeString(e.resolve("config.json"), Files.readString(e.resolve("config.json")).replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 2147483647"));
        refused(e, e.resolve("config.json"), "num_hidden_layers 2147483647");
        Path f = model("kv", valid(11), false, "");
        Files.writeString(f.resolve("config.json"), Files.readString(f.resolve("config.json")).replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        refused(f, f.resolve("config.json"), "num_key_value_heads 3");
        Path g = model("arch", valid(12), false, "");
        Files.writeString(g.resolve("config.json"), Files.readString(g.resolve("config.json")).replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\""));
        refused(g, g.resolve("config.json"), "gpt2");
        Path h = model("yarn", valid(13), false, ",\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}");
        refused(h, h.resolve("config.json"), "yarn", "not supported");
        Path i = model("badjson", valid(14), false, "");
        Files.writeString(i.resolve("config.json"), "{\"hidden_size\": 32,");
        refused(i, i.resolve("config.json"));
        Path j = model("noconfig", valid(15), false, "");
        Files.delete(j.resolve("config.json"));
        refused(j.resolve("model.safetensors"), j, "no config.json");
    }

    @Test
    void brokenShardIndexesAreNamed() throws IOException {
        Path m = dir.resolve("idx");
        HfModelWriter.writeSharded(m, DIMS, valid(16), false);
        Path idx = m.resolve("model.safetensors.index.json");
        String good = Files.readString(idx);

        Files.writeString(idx, good.replace("model-00002-of-00002.safetensors", "../../etc/passwd"));
        refused(m, idx, "not a file name in the model directory");
        Files.writeString(idx, good.replace("model-00002-of-00002.safetensors", "model-00003-of-00002.safetensors"));
        refused(m, idx, "model-00003-of-00002.safetensors", "missing");
        // the index places a tensor in the wrong shard
        Files.writeString(idx, good.replaceFirst("\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\"",
                "\"model.embed_tokens.weight\":\"model-00002-of-00002.safetensors\""));
        refused(m, idx, "model.embed_tokens.weight", "model-00001-of-00002.safetensors");
        Files.writeString(idx, "{\"metadata\":{}}");
        refused(m, idx, "weight_map");
    }
}
