package io.flexq.runtime.llama;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 2: every numeric hyperparameter is validated when the config is read. An rms epsilon of +Inf,
 * a linear rope scale of 0, NaN or -2, rope_freqs of NaN or 0 used to load and generate garbage ("⁇ ⁇ ⁇").
 * Each must be refused with a message naming the file and the key.
 */
class HyperparameterValidationTest {

    private static final double[] BAD = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -2.0};

    private static void refused(Map<String, Object> m, String key) {
        refused(m, key, null);
    }

    private static void refused(Map<String, Object> m, String key, RopeScaling stored) {
        var e = assertThrows(ModelFormatException.class,
                () -> LlamaConfig.from(new Metadata("test.gguf", m), 512, stored), key + " = " + m.get(key));
        assertTrue(e.getMessage().contains("test.gguf"), e.getMessage());
        assertTrue(e.getMessage().contains(key), "should name " + key + ": " + e.getMessage());
    }

    @Test
    void rmsEpsilonMustBeFinitePositiveAndSmall() {
        for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0.0, -1e-5, 2.0}) {
            Map<String, Object> m = LlamaConfigTest.stories();
            m.put("llama.attention.layer_norm_rms_epsilon", (float) v);
            refused(m, "llama.attention.layer_norm_rms_epsilon");
        }
        // a float32 key below float's smallest normal still is a valid epsilon
        Map<String, Object> m = LlamaConfigTest.stories();
        m.put("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        assertDoesNotThrow(() -> LlamaConfig.from(new Metadata("test.gguf", m), 512, null));
    }

    @Test
    void ropeFreqBaseMustBeFiniteAndAboveOne() {
        for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0.0, -10000.0, 1.0}) {
            Map<String, Object> m = LlamaConfigTest.stories();
            m.put("llama.rope.freq_base", (float) v);
            refused(m, "llama.rope.freq_base");
        }
    }

    @Test
    void linearRopeScaleMustBeFinitePositive() {
        for (double v : BAD) {
            Map<String, Object> m = LlamaConfigTest.stories();
            m.put("llama.rope.scale_linear", (float) v);
            refused(m, "llama.rope.scale_linear");
            Map<String, Object> typed = LlamaConfigTest.stories();
            typed.put("llama.rope.scaling.type", "linear");
            typed.put("llama.rope.scaling.factor", (float) v);
            refused(typed, "llama.rope.scaling.factor");
        }
    }

    @Test
    void llama3RopeFactorsMustBeFinitePositive() {
        String[] keys = {"llama.rope.scaling.factor", "llama.rope.scaling.low_freq_factor", "llama.rope.scaling.high_freq_factor"};
        for (String key : keys) {
            for (double v : BAD) {
                Map<String, Object> m = llama3();
                m.put(key, (float) v);
                refused(m, key);
            }
        }
        for (long v : new long[] {0, -8192}) {
            Map<String, Object> m = llama3();
            m.put("llama.rope.scaling.original_context_length", v);
            refused(m, "llama.rope.scaling.original_context_length");
        }
        assertDoesNotThrow(() -> LlamaConfig.from(new Metadata("test.gguf", llama3()), 512, null));
    }

    @Test
    void storedRopeFrequencyDivisorsMustBeFinitePositive() {
        for (double v : BAD) {
            float[] divisors = {1f, 1f, (float) v, 1f};
            refused(LlamaConfigTest.stories(), "rope_freqs.weight", new RopeScaling.Divisors(divisors));
        }
    }

    private static Map<String, Object> llama3() {
        Map<String, Object> m = LlamaConfigTest.stories();
        m.put("llama.rope.scaling.type", "llama3");
        m.put("llama.rope.scaling.factor", 32f);
        m.put("llama.rope.scaling.low_freq_factor", 1f);
        m.put("llama.rope.scaling.high_freq_factor", 4f);
        m.put("llama.rope.scaling.original_context_length", 8192L);
        return m;
    }
}
