package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real Jlama 0.8.4 (Panama operations) on the HF folder our converter makes from the 27M reference model
 * gives the logits our runtime gives on the F16 GGUF: the converter's tensors, names, q/k row order,
 * config.json and tokenizer.json are what Jlama needs.
 */
class JlamaF32EquivalenceTest {

    /** BOS + "Once upon a time, in a small village by the sea, there lived" (../shared/models/README.md), then 6 decode steps. */
    static final int[] TOKENS = {1, 1157, 326, 628, 261, 591, 4021, 290, 261, 1193, 2584, 388, 263, 1568, 4021, 484, 2180,
            261, 1011, 277, 263, 939, 4021};
    static final int PROMPT = 17;

    @Test
    void jlamaF32OnTheConvertedFolderMatchesOurRuntimeOnTheF16Gguf() {
        assertTrue(Boolean.getBoolean("jlama.force_panama_tensor_operations"), "the build must force Jlama's Panama operations");
        AbstractModel m = ModelSupport.loadModel(Fixtures.hfFolder(Fixtures.REF27M).toFile(), DType.F32, DType.F32);
        assertTrue(TensorOperationsProvider.get().name().contains("Panama"), TensorOperationsProvider.get().name());
        float[][] jlama = JlamaRun.jlama(m, TOKENS, PROMPT);
        float[][] ours = JlamaRun.ours(Fixtures.shared(Fixtures.REF27M), TOKENS, PROMPT);
        double d = JlamaRun.maxAbsDiff(jlama, ours);
        System.out.println("Jlama F32 vs our runtime (F16 GGUF), 27M, " + TOKENS.length + " positions: max |dlogit| = " + d);
        assertTrue(d <= 1e-4, "max |dlogit| " + d);
        // the README's fp32 reference for the prompt's next token
        assertEquals(10.4503, jlama[PROMPT - 1][261], 1e-3);
        assertEquals(9.2629, jlama[PROMPT - 1][355], 1e-3);
    }
}
