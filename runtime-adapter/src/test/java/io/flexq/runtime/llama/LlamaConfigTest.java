package io.flexq.runtime.llama;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaConfigTest {

    /** stories260K's GGUF metadata as models/README.md lists it. */
    static Map<String, Object> stories() {
        Map<String, Object> m = new HashMap<>();
        m.put("general.architecture", "llama");
        m.put("llama.embedding_length", 64L);
        m.put("llama.feed_forward_length", 172L);
        m.put("llama.block_count", 5L);
        m.put("llama.attention.head_count", 8L);
        m.put("llama.attention.head_count_kv", 4L);
        m.put("llama.context_length", 128L);
        m.put("llama.rope.dimension_count", 8L);
        m.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        return m;
    }

    static LlamaConfig config(Map<String, Object> m) {
        return LlamaConfig.from(new Metadata("test.gguf", m), 512, null);
    }

    @Test
    void readsTheLlamaKeys() {
        LlamaConfig c = config(stories());
        assertEquals(new LlamaConfig(64, 172, 5, 8, 4, 8, 512, 128, 8, 10000.0, 1e-5f, new RopeScaling.None()), c);
        assertEquals(32, c.kvDim());
        assertEquals(2, c.groupSize());
    }

    @Test
    void refusesOtherArchitecturesNamingThem() {
        Map<String, Object> m = stories();
        m.put("general.architecture", "gpt2");
        var e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("test.gguf") && e.getMessage().contains("'gpt2'") && e.getMessage().contains("llama"), e.getMessage());
        m.remove("general.architecture");
        e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("general.architecture is missing"), e.getMessage());
    }

    @Test
    void aMissingKeyIsNamed() {
        Map<String, Object> m = stories();
        m.remove("llama.block_count");
        var e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("llama.block_count"), e.getMessage());
    }

    @Test
    void inconsistentHeadsAreRefused() {
        Map<String, Object> m = stories();
        m.put("llama.attention.head_count_kv", 3L);
        var e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("not a multiple of head_count_kv 3"), e.getMessage());
        m.put("llama.attention.head_count_kv", 4L);
        m.put("llama.rope.dimension_count", 9L);
        e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("rope.dimension_count 9"), e.getMessage());
    }

    @Test
    void readsRopeScalingKeys() {
        Map<String, Object> m = stories();
        m.put("llama.rope.freq_base", 500000f);
        m.put("llama.rope.scaling.type", "llama3");
        m.put("llama.rope.scaling.factor", 8f);
        m.put("llama.rope.scaling.original_context_length", 8192L);
        LlamaConfig c = config(m);
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling.Llama3(8, 1, 4, 8192), c.ropeScaling());
        m.put("llama.rope.scaling.type", "linear");
        assertEquals(new RopeScaling.Linear(8), config(m).ropeScaling());
        m.put("llama.rope.scaling.type", "yarn");
        var e = assertThrows(ModelFormatException.class, () -> config(m));
        assertTrue(e.getMessage().contains("'yarn' is not supported"), e.getMessage());
    }

    @Test
    void storedFrequencyDivisorsTakePrecedence() {
        RopeScaling d = new RopeScaling.Divisors(new float[]{1, 1, 2, 8});
        assertInstanceOf(RopeScaling.Divisors.class, LlamaConfig.from(new Metadata("x", stories()), 512, d).ropeScaling());
        assertEquals(0.25 / 8, d.scale(3, 0.25));
    }

    @Test
    void llama3ScalingKeepsHighAndDividesLowFrequencies() {
        RopeScaling.Llama3 s = new RopeScaling.Llama3(8, 1, 4, 8192);
        double high = 2 * Math.PI / 1000;   // wavelength 1000 < 8192 / 4
        double low = 2 * Math.PI / 10000;   // wavelength 10000 > 8192 / 1
        assertEquals(high, s.scale(0, high));
        assertEquals(low / 8, s.scale(0, low));
        double mid = 2 * Math.PI / 4096;    // smooth = (8192 / 4096 - 1) / 3 = 1/3
        assertEquals((2.0 / 3) * mid / 8 + (1.0 / 3) * mid, s.scale(0, mid), 1e-15);
    }
}
