package io.flexq.plugin.fq6;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --max-bytes q6_k / q8_0}: the predicted size of llama.cpp's file against the sizes of files llama-quantize
 * (v0.4.0) actually wrote: stories260K Q8_0 ({@code ../shared/models/README.md}, 379,168 bytes, with its F16 fallback
 * for the 172-wide ffn_down) and the 27M model's Q6_K / Q8_0 files ({@code bench/results/quality-ref27M.md}:
 * 24,215,360 and 31,326,016 bytes).
 */
class SizeBudgetTest {

    private static long predicted(String spec, String model) {
        try (ModelFile m = ModelFiles.open(SharedData.require(model), BuiltinTypes.registry(SizeBudgetTest.class.getClassLoader()))) {
            return SizeBudget.parse(spec).bytes(m);
        }
    }

    @Test
    void predictsTheSizeOfLlamaQuantizesFiles() {
        assertEquals(379_168L, predicted("q8_0", "models/stories260K-f32.gguf"));
        assertEquals(24_215_360L, predicted("q6_k", "models/flexq-ref-27M-f16.gguf"));
        assertEquals(31_326_016L, predicted("Q8_0", "models/flexq-ref-27M-f16.gguf"));
    }

    @Test
    void parsesByteCountsAndRefusesTheRest() {
        assertEquals(24_215_360L, assertInstanceOf(SizeBudget.Bytes.class, SizeBudget.parse("24,215,360")).n());
        assertEquals(1000L, assertInstanceOf(SizeBudget.Bytes.class, SizeBudget.parse("1_000")).n());
        for (String bad : new String[]{"", "0", "-5", "1e6", "q4_0", "12MB", "99999999999999999999"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> SizeBudget.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") || e.getMessage().contains("positive"), e.getMessage());
        }
    }
}
