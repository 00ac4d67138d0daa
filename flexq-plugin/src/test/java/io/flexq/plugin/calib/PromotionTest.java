package io.flexq.plugin.calib;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The greedy choice under a byte budget, on hand-made gains and sizes whose answers are worked out below. */
class PromotionTest {

    private static final String Q0 = "blk.0.attn_q.weight", K0 = "blk.0.attn_k.weight", V0 = "blk.0.attn_v.weight",
            D0 = "blk.0.ffn_down.weight", Q1 = "blk.1.attn_q.weight", D1 = "blk.1.ffn_down.weight";

    /** A file of 1000 bytes plus the added bytes of the promoted layers plus 8 bytes of metadata per promoted layer. */
    private static ToLongFunction<Set<String>> size(Map<String, Long> added) {
        return set -> 1000 + set.stream().mapToLong(added::get).sum() + 8L * set.size();
    }

    @Test
    void takesTheBestGainPerByteWhileTheExactSizeFits() {
        Map<String, Double> gains = new LinkedHashMap<>();
        Map<String, Long> added = new LinkedHashMap<>();
        // gain per byte: Q0 1e-3/100 = 1e-5, K0 3e-3/600 = 5e-6, V0 4e-3/200 = 2e-5, D0 6e-3/1000 = 6e-6, Q1 -1e-4 (never), D1 0 (never)
        put(gains, added, Q0, 1e-3, 100);
        put(gains, added, K0, 3e-3, 600);
        put(gains, added, V0, 4e-3, 200);
        put(gains, added, D0, 6e-3, 1000);
        put(gains, added, Q1, -1e-4, 10);
        put(gains, added, D1, 0.0, 10);
        // order V0, Q0, D0, K0. Budget 2400: V0 -> 1208, Q0 -> 1316, D0 -> 2324, K0 would be 2932 > 2400: skipped
        Promotion.Choice c = Promotion.choose(gains, added, 2400, size(added));
        assertEquals(List.of(V0, Q0, D0), List.copyOf(c.promoted()));
        assertEquals(2324, c.fileBytes());
        assertEquals(4e-3 + 1e-3 + 6e-3, c.predictedGain(), 1e-15);
        // budget 2000: D0 (2324) no longer fits, K0 does (1316 + 608 = 1924): the greedy goes on past a layer too big
        Promotion.Choice d = Promotion.choose(gains, added, 2000, size(added));
        assertEquals(List.of(V0, Q0, K0), List.copyOf(d.promoted()));
        assertEquals(1924, d.fileBytes());
        // exactly the size with V0: taken (<= budget)
        assertEquals(List.of(V0), List.copyOf(Promotion.choose(gains, added, 1208, size(added)).promoted()));
        // one byte less: V0 does not fit, the next best Q0 (1108) does
        assertEquals(List.of(Q0), List.copyOf(Promotion.choose(gains, added, 1207, size(added)).promoted()));
        assertEquals(List.of(), List.copyOf(Promotion.choose(gains, added, 1107, size(added)).promoted()));
    }

    @Test
    void tiesGoToTheEarlierLayerAndFreeLayersComeFirst() {
        Map<String, Double> gains = new LinkedHashMap<>();
        Map<String, Long> added = new LinkedHashMap<>();
        // the same gain per byte (1/800, the same correctly rounded quotient) for D1, Q1, D0 (inserted out of forward
        // order); K0 adds no bytes
        put(gains, added, D1, 0.25, 200);
        put(gains, added, Q1, 0.125, 100);
        put(gains, added, D0, 0.25, 200);
        put(gains, added, K0, 1e-6, -50);
        Promotion.Choice c = Promotion.choose(gains, added, 100_000, size(added));
        assertEquals(List.of(K0, D0, Q1, D1), List.copyOf(c.promoted()));
        // room for K0 and one more (1000 - 50 + 8 = 958, then + 208 = 1166 <= 1200, + 108 = 1274 > 1200): D0 wins the tie
        assertEquals(List.of(K0, D0), List.copyOf(Promotion.choose(gains, added, 1200, size(added)).promoted()));
    }

    @Test
    void aBudgetBelowTheUnpromotedFileIsRefused() {
        Map<String, Double> gains = Map.of(Q0, 1e-3);
        Map<String, Long> added = Map.of(Q0, 100L);
        var e = assertThrows(IllegalArgumentException.class, () -> Promotion.choose(gains, added, 999, size(added)));
        assertTrue(e.getMessage().contains("1000") && e.getMessage().contains("999"), e.getMessage());
        var nan = assertThrows(IllegalArgumentException.class, () -> Promotion.choose(Map.of(Q0, Double.NaN), added, 5000, size(added)));
        assertTrue(nan.getMessage().contains(Q0), nan.getMessage());
    }

    private static void put(Map<String, Double> gains, Map<String, Long> added, String name, double gain, long bytes) {
        gains.put(name, gain);
        added.put(name, bytes);
    }
}
