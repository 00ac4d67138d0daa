package io.flexq.runtime.gguf;

import io.flexq.runtime.llama2c.Llama2cFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GGUF files llama.cpp made from stories260K (../shared/models): what models/README.md documents
 * about them, and that their tensors are the .bin's floats (F32 bit for bit, F16 as the .bin rounded
 * to half precision by the JDK's independent conversion).
 */
class Stories260KGgufTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16));
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** ne of each tensor per the README's table (N = 0..4). */
    static Map<String, long[]> expectedShapes() {
        Map<String, long[]> m = new TreeMap<>();
        m.put("token_embd.weight", new long[]{64, 512});
        m.put("output.weight", new long[]{64, 512});
        m.put("output_norm.weight", new long[]{64});
        for (int l = 0; l < 5; l++) {
            String p = "blk." + l + ".";
            m.put(p + "attn_norm.weight", new long[]{64});
            m.put(p + "ffn_norm.weight", new long[]{64});
            m.put(p + "attn_q.weight", new long[]{64, 64});
            m.put(p + "attn_output.weight", new long[]{64, 64});
            m.put(p + "attn_k.weight", new long[]{64, 32});
            m.put(p + "attn_v.weight", new long[]{64, 32});
            m.put(p + "ffn_gate.weight", new long[]{64, 172});
            m.put(p + "ffn_up.weight", new long[]{64, 172});
            m.put(p + "ffn_down.weight", new long[]{172, 64});
        }
        return m;
    }

    @Test
    void f32GgufMetadataIsWhatTheReadmeSays() {
        try (GgufFile f = GgufFile.open(SharedData.require("models/stories260K-f32.gguf"), TYPES)) {
            assertEquals(3, f.version());
            Metadata m = f.metadata();
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals(128, m.getInt("llama.context_length"));   // the converter's default, not 512
            assertEquals(64, m.getInt("llama.embedding_length"));
            assertEquals(172, m.getInt("llama.feed_forward_length"));
            assertEquals(5, m.getInt("llama.block_count"));
            assertEquals(8, m.getInt("llama.attention.head_count"));
            assertEquals(4, m.getInt("llama.attention.head_count_kv"));
            assertEquals(8, m.getInt("llama.rope.dimension_count"));
            assertEquals(1e-5f, m.require("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(GgufType.FLOAT32, f.typeOf("llama.attention.layer_norm_rms_epsilon"));
            assertFalse(m.has("general.file_type"));

            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            String[] tokens = m.getArray("tokenizer.ggml.tokens", String[].class);
            float[] scores = m.getArray("tokenizer.ggml.scores", float[].class);
            int[] types = m.getArray("tokenizer.ggml.token_type", int[].class);
            assertEquals(512, tokens.length);
            assertEquals(512, scores.length);
            assertEquals(512, types.length);
            assertEquals("<unk>", tokens[0]);
            assertEquals("<s>", tokens[1]);
            assertEquals("</s>", tokens[2]);
            assertEquals("<0x00>", tokens[3]);
            assertEquals("<0xFF>", tokens[258]);
            assertEquals(2, types[0]);
            assertEquals(3, types[1]);
            assertEquals(3, types[2]);
            for (int i = 3; i <= 258; i++) assertEquals(6, types[i], "token " + i);
            for (int i = 259; i < 512; i++) assertEquals(1, types[i], "token " + i);
            // README: normal pieces 259..511 scored -252..0; tok512.bin has score -(id - 259)
            for (int i = 259; i < 512; i++) assertEquals(-(i - 259), scores[i], 0f, "score of token " + i);
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(2, m.getInt("tokenizer.ggml.eos_token_id"));
            assertEquals(0, m.getInt("tokenizer.ggml.unknown_token_id"));
            assertEquals(4294967295L, m.getLong("tokenizer.ggml.seperator_token_id"));
            assertEquals(4294967295L, m.getLong("tokenizer.ggml.padding_token_id"));
        }
    }

    @Test
    void f32GgufTensorsHaveTheReadmeShapesAndAreTheBinFloatsBitForBit() {
        try (GgufFile g = GgufFile.open(SharedData.require("models/stories260K-f32.gguf"), TYPES);
             Llama2cFile bin = Llama2cFile.open(SharedData.require("models/stories260K.bin"), TYPES)) {
            Map<String, long[]> shapes = expectedShapes();
            assertEquals(shapes.keySet(), new TreeMap<>(g.tensors()).keySet());
            long params = 0;
            for (TensorEntry t : g.tensors().values()) {
                assertSame(FloatTypes.F32, t.type(), t.name());
                assertArrayEquals(shapes.get(t.name()), t.ne(), t.name());
                params += t.elementCount();
                // output.weight is the converter's copy of the shared classifier = the embedding
                String binName = t.name().equals("output.weight") ? "token_embd.weight" : t.name();
                TensorEntry b = bin.tensor(binName);
                assertArrayEquals(b.ne(), t.ne(), t.name());
                assertEquals(-1, t.data().mismatch(b.data()), t.name() + ": first differing byte");
            }
            assertEquals(292_800, params);
            assertEquals(0, g.dataStart() % g.alignment());
        }
    }

    @Test
    void f16GgufIsTheBinRoundedToHalfPrecisionWithNormsKeptF32() {
        try (GgufFile g = GgufFile.open(SharedData.require("models/stories260K-f16.gguf"), TYPES);
             Llama2cFile bin = Llama2cFile.open(SharedData.require("models/stories260K.bin"), TYPES)) {
            assertEquals(1, g.metadata().getInt("general.file_type"));
            assertEquals(2, g.metadata().getInt("general.quantization_version"));
            Map<String, long[]> shapes = expectedShapes();
            assertEquals(shapes.keySet(), new TreeMap<>(g.tensors()).keySet());
            for (TensorEntry t : g.tensors().values()) {
                assertArrayEquals(shapes.get(t.name()), t.ne(), t.name());
                MemorySegment ref = bin.tensor(t.name().equals("output.weight") ? "token_embd.weight" : t.name()).data();
                if (t.ne().length == 1) {
                    assertSame(FloatTypes.F32, t.type(), t.name());
                    assertEquals(-1, t.data().mismatch(ref), t.name());
                } else {
                    assertSame(FloatTypes.F16, t.type(), t.name());
                    float[] f = ref.toArray(F32);
                    short[] h = t.data().toArray(F16);
                    assertEquals(f.length, h.length, t.name());
                    for (int i = 0; i < f.length; i++) {
                        assertEquals(Float.floatToFloat16(f[i]), h[i], t.name() + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void q8GgufWithoutQ8TypeRegisteredNamesTheTensorAndTheId() {
        var e = assertThrows(TensorTypes.UnsupportedTensorTypeException.class,
                () -> GgufFile.open(SharedData.require("models/stories260K-q8_0.gguf"), TYPES));
        String msg = e.getMessage();
        // llama-quantize writes output.weight first (README), as Q8_0 = type id 8
        assertTrue(msg.contains("stories260K-q8_0.gguf") && msg.contains("tensor output.weight") && msg.contains("id 8"), msg);
    }

    @Test
    void flexqRef27MLoadsWithTheReadmeDimensions() {
        try (GgufFile g = GgufFile.open(SharedData.require("models/flexq-ref-27M-f16.gguf"), TYPES)) {
            Metadata m = g.metadata();
            // README: dim 512, hidden 1536, 8 layers, 8 heads, 4 kv heads, vocab 4096, context set to 512
            assertEquals(512, m.getInt("llama.embedding_length"));
            assertEquals(1536, m.getInt("llama.feed_forward_length"));
            assertEquals(8, m.getInt("llama.block_count"));
            assertEquals(8, m.getInt("llama.attention.head_count"));
            assertEquals(4, m.getInt("llama.attention.head_count_kv"));
            assertEquals(512, m.getInt("llama.context_length"));
            assertEquals(64, m.getInt("llama.rope.dimension_count"));
            assertEquals(4096, m.getArray("tokenizer.ggml.tokens", String[].class).length);
            assertArrayEquals(new long[]{512, 4096}, g.tensor("token_embd.weight").ne());
            assertArrayEquals(new long[]{1536, 512}, g.tensor("blk.7.ffn_down.weight").ne());
            assertSame(FloatTypes.F16, g.tensor("blk.7.ffn_down.weight").type());
            assertSame(FloatTypes.F32, g.tensor("blk.7.ffn_norm.weight").type());
            long params = g.tensors().values().stream().mapToLong(TensorEntry::elementCount).sum();
            assertEquals(29_368_832, params);
        }
    }

    /**
     * With the built-in registry the Q8_0 file loads: types per the README's table (ffn_down stays F16,
     * norms F32) and every Q8_0 block dequantizes to within llama.cpp's rounding of the .bin floats:
     * |x - q * fp16(d)| <= d/2 + 127 * |d - fp16(d)| < 0.6 d with d = amax(block of 32) / 127.
     */
    @Test
    void q8GgufLoadsWithBuiltinTypesAndDequantizesNearTheBin() {
        TensorTypes builtin = new TensorTypes(io.flexq.runtime.tensor.BuiltinTypes.all());
        try (GgufFile g = GgufFile.open(SharedData.require("models/stories260K-q8_0.gguf"), builtin);
             Llama2cFile bin = Llama2cFile.open(SharedData.require("models/stories260K.bin"), builtin)) {
            assertEquals(7, g.metadata().getInt("general.file_type"));
            assertEquals("output.weight", g.tensors().keySet().iterator().next(), "llama-quantize writes output.weight first");
            Map<String, long[]> shapes = expectedShapes();
            assertEquals(shapes.keySet(), new TreeMap<>(g.tensors()).keySet());
            for (TensorEntry t : g.tensors().values()) {
                assertArrayEquals(shapes.get(t.name()), t.ne(), t.name());
                String want = t.ne().length == 1 ? "F32" : t.name().contains("ffn_down") ? "F16" : "Q8_0";
                assertEquals(want, t.type().name(), t.name());
                if (!want.equals("Q8_0")) continue;
                float[] ref = bin.tensor(t.name().equals("output.weight") ? "token_embd.weight" : t.name()).data().toArray(F32);
                int cols = (int) t.cols();
                float[] row = new float[cols];
                for (int r = 0; r < t.rows(); r++) {
                    t.type().dequantizeRow(t.data(), r, cols, row, 0);
                    for (int b0 = 0; b0 < cols; b0 += 32) {
                        double amax = 0;
                        for (int i = b0; i < b0 + 32; i++) amax = Math.max(amax, Math.abs(ref[r * cols + i]));
                        double bound = 0.6 * amax / 127 + 1e-12;
                        for (int i = b0; i < b0 + 32; i++) {
                            assertEquals(ref[r * cols + i], row[i], bound, t.name() + " row " + r + " col " + i);
                        }
                    }
                }
            }
        }
    }
}
