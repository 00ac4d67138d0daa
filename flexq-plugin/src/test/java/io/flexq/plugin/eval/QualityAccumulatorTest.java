package io.flexq.plugin.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QualityAccumulatorTest {

    /**
     * Two positions, hand-computed:
     * pos 1: model q = (3/4, 1/4), target 1 -> NLL ln 4;     ref p = (1/2, 1/2) -> KL 1/2 ln(4/3), argmax agree (0 vs 0)
     * pos 2: model q = (1/4, 3/4), target 1 -> NLL ln(4/3);  ref p = (3/4, 1/4) -> KL 1/2 ln 3,    argmax disagree
     *   (KL(p||q) = 3/4 ln 3 + 1/4 ln(1/3) = 1/2 ln 3)
     * PPL = exp((ln 4 + ln 4/3) / 2) = sqrt(16/3); mean KL = (1/2 ln 4/3 + 1/2 ln 3) / 2 = 1/2 ln 2; top-1 = 1/2.
     */
    @Test
    void handComputedTwoPositions() {
        float l3 = (float) Math.log(3);
        QualityAccumulator acc = new QualityAccumulator();
        acc.add(new float[]{l3, 0f}, new float[]{0f, 0f}, 2, 1);
        acc.add(new float[]{0f, l3}, new float[]{l3, 0f}, 2, 1);
        Quality q = acc.result();
        assertEquals(Math.sqrt(16.0 / 3.0), q.ppl(), 1e-6);
        assertEquals(0.5 * Math.log(2), q.kldMean(), 1e-7);
        assertEquals(1.0, q.top1() * 2, 0.0);
        assertEquals(2, q.tokens());
        // p99 of {1/2 ln 4/3, 1/2 ln 3}: h = 0.99, so 1% of the way is left before the max
        double lo = 0.5 * Math.log(4.0 / 3.0), hi = 0.5 * Math.log(3);
        assertEquals(lo + 0.99 * (hi - lo), q.kldP99(), 1e-7);
        assertTrue(q.hasReference());
    }

    @Test
    void withoutReferenceOnlyPerplexity() {
        QualityAccumulator acc = new QualityAccumulator();
        acc.add(new float[]{0f, 0f, 0f, 0f}, null, 4, 2);
        Quality q = acc.result();
        assertEquals(4.0, q.ppl(), 1e-12);
        assertFalse(q.hasReference());
        assertEquals("{\"ppl\": " + q.ppl() + ", \"kld_mean\": null, \"kld_p99\": null, \"top1\": null, \"tokens\": 1}", q.toJson());
    }

    @Test
    void percentileInterpolatesBetweenOrderStatistics() {
        double[] v = new double[101];
        for (int i = 0; i <= 100; i++) v[i] = i;
        assertEquals(99.0, QualityAccumulator.percentile(v, 0.99), 1e-12);
        assertEquals(4.96, QualityAccumulator.percentile(new double[]{1, 2, 3, 4, 5}, 0.99), 1e-12);
        assertEquals(7.0, QualityAccumulator.percentile(new double[]{7}, 0.99), 0.0);
    }

    @Test
    void jsonParsesWithTheRuntimeParserAndHasTheFiveKeys() {
        QualityAccumulator acc = new QualityAccumulator();
        float l3 = (float) Math.log(3);
        acc.add(new float[]{l3, 0f}, new float[]{0f, 0f}, 2, 1);
        var map = io.flexq.runtime.json.Json.parseObject(acc.result().toJson(), "json");
        assertEquals(java.util.List.of("ppl", "kld_mean", "kld_p99", "top1", "tokens"), java.util.List.copyOf(map.keySet()));
        assertEquals(4.0, ((Number) map.get("ppl")).doubleValue(), 1e-6);
        assertEquals(1L, map.get("tokens"));
    }
}
