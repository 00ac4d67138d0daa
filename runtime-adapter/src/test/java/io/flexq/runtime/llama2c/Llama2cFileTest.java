package io.flexq.runtime.llama2c;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cFileTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16));
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** A small checkpoint written the way llama2.c's export.py does, from arrays the test keeps. */
    record Written(Path path, Map<String, float[]> arrays) {
    }

    /**
     * Writes a checkpoint in run.c's order (legacy) or export.py version1_export's order, filling every
     * array with seeded random floats and remembering each one under the GGUF name the loader should use.
     */
    static Written write(Path path, int version, int dim, int hidden, int layers, int heads, int kvHeads, int vocab,
                         int seqLen, boolean shared, long seed) throws IOException {
        Random rnd = new Random(seed);
        int hs = dim / heads, kvDim = hs * kvHeads;
        // (gguf name or null, floats) in llama2.c's names: wq, wk, ..., kept per layer
        Map<String, float[]> named = new LinkedHashMap<>();
        List<float[]> order = new ArrayList<>();
        java.util.function.BiFunction<String, Integer, float[]> arr = (name, n) -> {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
            if (name != null) named.put(name, a);
            return a;
        };
        String[] kinds = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"};
        int[] sizes = {dim, dim * dim, kvDim * dim, kvDim * dim, dim * dim, dim, hidden * dim, dim * hidden, hidden * dim};
        Map<String, float[][]> perLayer = new LinkedHashMap<>();
        for (int k = 0; k < kinds.length; k++) {
            float[][] ls = new float[layers][];
            for (int l = 0; l < layers; l++) ls[l] = arr.apply("blk." + l + "." + kinds[k] + ".weight", sizes[k]);
            perLayer.put(kinds[k], ls);
        }
        float[] emb = arr.apply("token_embd.weight", vocab * dim);
        float[] fin = arr.apply("output_norm.weight", dim);
        float[] freqR = arr.apply(null, seqLen * hs / 2);
        float[] freqI = arr.apply(null, seqLen * hs / 2);
        float[] cls = shared ? null : arr.apply("output.weight", vocab * dim);

        ByteBuffer head;
        if (version == 0) {
            head = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(shared ? vocab : -vocab).putInt(seqLen);
            order.add(emb);
            for (String k : kinds) order.addAll(List.of(perLayer.get(k)));
            order.add(fin);
            order.add(freqR);
            order.add(freqI);
        } else {
            head = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(0x616b3432).putInt(1);
            head.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(vocab).putInt(seqLen);
            head.put((byte) (shared ? 1 : 0));
            order.addAll(List.of(perLayer.get("attn_norm")));
            order.addAll(List.of(perLayer.get("ffn_norm")));
            order.add(fin);
            order.add(emb);
            for (String k : List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up")) {
                order.addAll(List.of(perLayer.get(k)));
            }
        }
        if (cls != null) order.add(cls);
        int floats = order.stream().mapToInt(a -> a.length).sum();
        ByteBuffer body = ByteBuffer.allocate(floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : order) for (float f : a) body.putFloat(f);
        byte[] all = new byte[head.capacity() + body.capacity()];
        System.arraycopy(head.array(), 0, all, 0, head.capacity());
        System.arraycopy(body.array(), 0, all, head.capacity(), body.capacity());
        Files.write(path, all);
        return new Written(path, named);
    }

    static float[] floats(TensorEntry t) {
        return t.data().toArray(F32);
    }

    private void checkAgainstWritten(Written w, int dim, int hidden, int kvDim, int vocab, boolean shared) {
        try (Llama2cFile f = Llama2cFile.open(w.path(), TYPES)) {
            assertEquals(w.arrays().keySet(), f.tensors().keySet(), "tensor names");
            for (var e : w.arrays().entrySet()) {
                TensorEntry t = f.tensor(e.getKey());
                assertSame(FloatTypes.F32, t.type());
                assertArrayEquals(e.getValue(), floats(t), e.getKey());
                assertEquals(e.getValue().length * 4L, t.data().byteSize());
            }
            assertArrayEquals(new long[]{dim, vocab}, f.tensor("token_embd.weight").ne());
            assertArrayEquals(new long[]{dim, kvDim}, f.tensor("blk.0.attn_k.weight").ne());
            assertArrayEquals(new long[]{hidden, dim}, f.tensor("blk.1.ffn_down.weight").ne());
            assertArrayEquals(new long[]{dim, hidden}, f.tensor("blk.1.ffn_up.weight").ne());
            assertArrayEquals(new long[]{dim}, f.tensor("blk.1.ffn_norm.weight").ne());
            assertArrayEquals(new long[]{dim}, f.tensor("output_norm.weight").ne());
            assertEquals(!shared, f.tensors().containsKey("output.weight"));
            assertEquals("llama2c", f.format());
        }
    }

    @Test
    void legacySharedCheckpointExposesEveryArrayUnderItsGgufName() throws IOException {
        long seed = 11;
        Written w = write(dir.resolve("m.bin"), 0, 16, 24, 2, 4, 2, 10, 6, true, seed);
        checkAgainstWritten(w, 16, 24, 8, 10, true);
    }

    @Test
    void legacyUnsharedCheckpointHasOutputWeightAfterFreqCis() throws IOException {
        Written w = write(dir.resolve("m.bin"), 0, 16, 24, 3, 4, 4, 10, 6, false, 12);
        checkAgainstWritten(w, 16, 24, 16, 10, false);
        try (Llama2cFile f = Llama2cFile.open(w.path(), TYPES)) {
            assertEquals(10, f.config().vocabSize());
            assertFalse(f.config().sharedClassifier());
        }
    }

    @Test
    void version1ExportReadsInItsOwnOrder() throws IOException {
        Written shared = write(dir.resolve("v1s.bin"), 1, 16, 24, 2, 4, 2, 10, 6, true, 13);
        checkAgainstWritten(shared, 16, 24, 8, 10, true);
        Written unshared = write(dir.resolve("v1u.bin"), 1, 16, 24, 2, 4, 1, 10, 6, false, 14);
        checkAgainstWritten(unshared, 16, 24, 4, 10, false);
        try (Llama2cFile f = Llama2cFile.open(unshared.path(), TYPES)) {
            assertEquals(1, f.version());
        }
    }

    @Test
    void stories260KHeaderAndMetadataMatchTheReadme() {
        Path bin = SharedData.require("models/stories260K.bin");
        try (Llama2cFile f = Llama2cFile.open(bin, TYPES)) {
            // models/README.md: dim 64, hidden_dim 172, n_layers 5, n_heads 8, n_kv_heads 4, vocab 512 shared, seq_len 512
            assertEquals(new Llama2cFile.Config(64, 172, 5, 8, 4, 512, 512, true), f.config());
            Metadata m = f.metadata();
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals(64, m.getInt("llama.embedding_length"));
            assertEquals(172, m.getInt("llama.feed_forward_length"));
            assertEquals(5, m.getInt("llama.block_count"));
            assertEquals(8, m.getInt("llama.attention.head_count"));
            assertEquals(4, m.getInt("llama.attention.head_count_kv"));
            assertEquals(512, m.getInt("llama.context_length"));
            assertEquals(512, m.getInt("llama.vocab_size"));
            assertEquals(8, m.getInt("llama.rope.dimension_count"));
            assertEquals(1e-5f, (Float) m.require("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000f, (Float) m.require("llama.rope.freq_base"));
            // 1 embedding + 5 layers x 9 + output_norm; shared classifier: no output.weight
            assertEquals(47, f.tensors().size());
            assertFalse(f.tensors().containsKey("output.weight"));
            // 260,032 distinct parameters (README) = all tensors here
            long params = f.tensors().values().stream().mapToLong(TensorEntry::elementCount).sum();
            assertEquals(260_032, params);
            // first float of the embedding is the float right after the 28-byte header
            float first = f.tensor("token_embd.weight").data().get(F32, 0);
            try {
                ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(raw.getFloat(28), first);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void closedFileRefusesAccessInsteadOfCrashing() throws IOException {
        Written w = write(dir.resolve("m.bin"), 0, 16, 24, 1, 4, 2, 10, 6, true, 15);
        TensorEntry t;
        try (Llama2cFile f = Llama2cFile.open(w.path(), TYPES)) {
            t = f.tensor("token_embd.weight");
        }
        assertThrows(IllegalStateException.class, () -> t.data().get(F32, 0));
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Written w = write(dir.resolve("m.bin"), 0, 16, 24, 1, 4, 2, 10, 6, true, 16);
        try (Llama2cFile f = Llama2cFile.open(w.path(), TYPES)) {
            var e = assertThrows(ModelFormatException.class, () -> f.tensor("output.weight"));
            assertTrue(e.getMessage().contains("output.weight") && e.getMessage().contains("m.bin"), e.getMessage());
        }
    }
}
