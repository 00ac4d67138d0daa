package io.flexq.runtime.model;

import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synthetic model: GGUF names and shapes of a Llama, seeded and reproducible values of the stated scale, sizes. */
class SyntheticModelTest {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 2 layers, untied head, head size 16 with 4 query heads over 2 KV heads, every width a multiple of 32. */
    private static final ModelShape SMALL = new ModelShape("small", 64, 96, 2, 4, 2, 16, 40, 64, 10000.0, null, false);

    private static float[] floats(TensorEntry t) {
        return t.data().asSlice(0, 4 * t.elementCount()).toArray(F32_LE);
    }

    @Test
    void llama32OneBillionHasThePublishedParameterCount() {
        // meta-llama/Llama-3.2-1B model.safetensors holds 1,235,814,400 parameters (tied: no separate lm_head)
        assertEquals(1_235_814_400L, ModelShape.LLAMA_3_2_1B.parameterCount());
        // sizes without building: F32 4 bytes each; Q8_0 34 bytes per 32 matrix weights, the 33 norms of 2048 in F32
        assertEquals(4 * 1_235_814_400L, SyntheticModel.byteSize(ModelShape.LLAMA_3_2_1B, FloatTypes.F32));
        long norms = 33 * 2048;
        assertEquals((1_235_814_400L - norms) / 32 * 34 + 4 * norms, SyntheticModel.byteSize(ModelShape.LLAMA_3_2_1B, QuantTypes.Q8_0));
        assertEquals(ModelShape.LLAMA_3_2_1B, ModelShape.named("Llama-3.2-1B"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelShape.named("llama-9b"));
        assertTrue(e.getMessage().contains("llama-9b") && e.getMessage().contains("llama-3.2-1b"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ModelShape("bad", 64, 96, 2, 6, 4, 16, 40, 64, 1e4, null, true));
    }

    @Test
    void tensorsHaveTheNamesShapesAndTypesOfALlamaFile() {
        long seed = 3;
        try (SyntheticModel m = SyntheticModel.create(SMALL, QuantTypes.Q8_0, seed)) {
            List<String> expected = new ArrayList<>(List.of("token_embd.weight"));
            for (int l = 0; l < 2; l++) {
                for (String n : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")) {
                    expected.add("blk." + l + "." + n + ".weight");
                }
            }
            expected.add("output_norm.weight");
            expected.add("output.weight");
            assertEquals(expected, List.copyOf(m.tensors().keySet()), "seed " + seed);
            // ne = [input width, output width]
            assertArrayEquals(new long[]{64, 40}, m.tensor("token_embd.weight").ne());
            assertArrayEquals(new long[]{64, 64}, m.tensor("blk.1.attn_q.weight").ne());
            assertArrayEquals(new long[]{64, 32}, m.tensor("blk.1.attn_k.weight").ne());
            assertArrayEquals(new long[]{96, 64}, m.tensor("blk.0.ffn_down.weight").ne());
            assertArrayEquals(new long[]{64}, m.tensor("blk.0.ffn_norm.weight").ne());
            assertEquals(QuantTypes.Q8_0, m.tensor("blk.0.ffn_up.weight").type());
            assertEquals(FloatTypes.F32, m.tensor("output_norm.weight").type());
            // Q8_0: 34 bytes per 32 weights; norms 4 bytes each. Matrices: 2 x 40 x 64 + 2 x (64x64 + 2x32x64 + 64x64 + 3x96x64)
            long matrixWeights = 2 * 40 * 64 + 2 * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 96 * 64);
            long norms = 5 * 64;
            assertEquals(matrixWeights + norms, SMALL.parameterCount());
            assertEquals(matrixWeights / 32 * 34 + norms * 4, m.weightBytes());
            assertEquals(m.weightBytes(), SyntheticModel.byteSize(SMALL, QuantTypes.Q8_0));
            assertEquals(64, m.metadata().getInt("llama.context_length"));
            assertEquals("llama", m.metadata().getString("general.architecture"));
        }
    }

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOthers() {
        try (SyntheticModel a = SyntheticModel.create(ModelShape.TINY, QuantTypes.Q8_0, 5);
             SyntheticModel b = SyntheticModel.create(ModelShape.TINY, QuantTypes.Q8_0, 5);
             SyntheticModel c = SyntheticModel.create(ModelShape.TINY, QuantTypes.Q8_0, 6)) {
            for (String name : a.tensors().keySet()) {
                assertEquals(-1, a.tensor(name).data().mismatch(b.tensor(name).data()), "seed 5, tensor " + name);
                assertTrue(a.tensor(name).data().mismatch(c.tensor(name).data()) >= 0, "seeds 5 and 6 agree on " + name);
            }
        }
    }

    @Test
    void valuesHaveTheStatedRangeAndDeviation() {
        long seed = 9;
        try (SyntheticModel m = SyntheticModel.create(ModelShape.TINY, FloatTypes.F32, seed)) {
            // fan-in n: uniform on +-sqrt(3/n), deviation 1/sqrt(n); embedding fan-in = dim; norms 1 +- 0.1
            check(floats(m.tensor("token_embd.weight")), 1 / Math.sqrt(64), "token_embd, seed " + seed);
            check(floats(m.tensor("blk.0.ffn_gate.weight")), 1 / Math.sqrt(64), "ffn_gate, seed " + seed);
            check(floats(m.tensor("blk.1.ffn_down.weight")), 1 / Math.sqrt(256), "ffn_down, seed " + seed);
            for (float v : floats(m.tensor("blk.1.attn_norm.weight"))) {
                assertTrue(v >= 0.9f && v <= 1.1f, "attn_norm value " + v + ", seed " + seed);
            }
            // neighbours must not be copies (a counter-based generator indexed wrongly repeats values)
            float[] q = floats(m.tensor("blk.0.attn_q.weight"));
            int repeats = 0;
            for (int i = 1; i < q.length; i++) {
                repeats += q[i] == q[i - 1] ? 1 : 0;
            }
            assertTrue(repeats < 3, repeats + " equal neighbours, seed " + seed);
        }
    }

    private static void check(float[] v, double std, String what) {
        double bound = Math.sqrt(3) * std;
        double sum = 0, sumSq = 0;
        for (float x : v) {
            assertTrue(Math.abs(x) <= bound, what + ": " + x + " outside +-" + bound);
            sum += x;
            sumSq += (double) x * x;
        }
        double mean = sum / v.length;
        double sd = Math.sqrt(sumSq / v.length - mean * mean);
        // n >= 16384 samples: the sample deviation is within 2% of std and |mean| < 4 std/sqrt(n) with overwhelming odds
        assertTrue(Math.abs(sd / std - 1) < 0.02, what + ": deviation " + sd + ", expected " + std);
        assertTrue(Math.abs(mean) < 4 * std / Math.sqrt(v.length), what + ": mean " + mean);
    }

    @Test
    void aTypeThatCannotStoreAMatrixIsRefusedNamingTheTensor() {
        // Q6_K needs rows of 256: TINY's 64-wide embedding is not
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SyntheticModel.create(ModelShape.TINY, QuantTypes.Q6_K, 1));
        assertTrue(e.getMessage().contains("token_embd.weight") && e.getMessage().contains("Q6_K"), e.getMessage());
    }

    @Test
    void closingFreesTheTensors() {
        SyntheticModel m = SyntheticModel.create(ModelShape.TINY, FloatTypes.F32, 1);
        TensorEntry t = m.tensor("output_norm.weight");
        m.close();
        m.close(); // idempotent
        assertFalse(t.data().scope().isAlive());
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
    }
}
