package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.QuantizedModel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default q6_k budget runs only where its analysis is bounded: the 27M reference shape yes, Llama-3.2-1B and the
 * Llama-3.1-8B shape no, not even with one calibration window.
 */
class DefaultBudgetTest {

    private static final QuantizedModel M27 = GptqBoundTest.shaped(8, 512, 256, 1536, 4096);
    private static final QuantizedModel M1B = GptqBoundTest.shaped(16, 2048, 512, 8192, 128256);
    private static final QuantizedModel M8B = GptqBoundTest.shaped(32, 4096, 1024, 14336, 128256);

    @Test
    void theEstimateCountsPassesTokensAndFlopOfThe27MShape() {
        DefaultBudget.Estimate e = DefaultBudget.estimate(M27, 8, 512);
        assertEquals(56, e.candidates());
        // 58 passes (reference, quantized, one per linear) of 8 windows of 512 tokens
        assertEquals(58L * 8 * 512, e.tokenForwards());
        // per token 2 FLOP per weight of the linears (q, o: 512x512; k, v: 256x512; gate, up, down: 1536x512) and the
        // 4096x512 head; per window of 512 causal attention over 8 blocks: QK^T and PV, 2 x 2 x 512 x (1 + ... + 512)
        double linear = 8.0 * (2 * 512 * 512 + 2 * 256 * 512 + 3 * 1536 * 512) + 4096 * 512;
        double attention = 8 * 2 * 2 * 512 * (512 * 513 / 2.0);
        assertEquals(58 * 8 * (512 * 2 * linear + attention), e.flop(), 1e-6 * e.flop());
        // Q8_0: 34 bytes per 32 weights
        assertEquals(8L * (2 * 512 * 512 + 2 * 256 * 512 + 3 * 1536 * 512) / 32 * 34, e.widerBytes());
    }

    @Test
    void theBoundAdmitsThe27MShapeAndRefusesTheLargerOnes() {
        assertTrue(DefaultBudget.unboundedReason(M27, 8, 512).isEmpty());
        for (QuantizedModel m : new QuantizedModel[] {M1B, M8B}) {
            for (int windows : new int[] {8, 1}) {
                String why = DefaultBudget.unboundedReason(m, windows, 512).orElseThrow();
                assertTrue(why.contains("exceeds the default bound"), why);
            }
        }
        // the 8B shape's analysis as the results file estimates it: 1.4e16 FLOP, about 32 h at the measured rate
        double flop = DefaultBudget.estimate(M8B, 8, 512).flop();
        assertTrue(flop > 1.3e16 && flop < 1.5e16, Double.toString(flop));
    }
}
