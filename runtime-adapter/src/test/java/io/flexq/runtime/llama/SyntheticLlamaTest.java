package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random-weight models that exercise what stories260K does not: a head size that is not dim / heads, partial
 * rotary dims, Llama 3.1 rope scaling over all three frequency bands, an untied output head, 4 query heads per
 * KV head, and prompts longer than the session's batch (chunked prefill). Checked against the float64 reference.
 */
class SyntheticLlamaTest {

    private static Llama load(ModelFile f, List<String> log) {
        return Llama.load(f, Backends.discover(SyntheticLlamaTest.class.getClassLoader(), log::add), List.of(), log::add);
    }

    private static int[] randomTokens(long seed, int n, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    @Test
    void llama3ScaledPartialRopeUntiedHeadMatchesFloat64Reference() {
        long seed = 7L;
        // theta 100, ropeDim 8: wavelengths 6.3, 19.9, 62.8, 199 against originalContext 32 / high 4 = 8 and / low 1 = 32:
        // one pair kept, one smoothed, two divided by the factor.
        RefWeights w = RefWeights.random(seed, 48, 80, 2, 4, 1, 16, 97, 64, 8, 100.0,
                new double[]{4.0, 1.0, 4.0, 32}, false);
        List<String> log = new ArrayList<>();
        try (ModelFile f = w.toModelFile("synthetic-llama3-seed" + seed); Llama llama = load(f, log)) {
            assertEquals(new RopeScaling.Llama3(4.0, 1.0, 4.0, 32), llama.config().ropeScaling());
            assertTrue(llama.describe().stream().anyMatch(s -> s.startsWith("output.weight")), "untied head used: " + llama.describe());
            int[] prompt = randomTokens(seed, 40, w.vocab());
            // 1e-4 holds for the fp32 cache (the fp16 cache's bounds: HalfKvCacheTest)
            KvCacheType.run("f32", () -> LlamaForwardTest.checkAgainstReference(w, llama, prompt, 8, 1e-4, "synthetic llama3 seed " + seed));
        }
    }

    @Test
    void groupedQueryAttentionWithChunkedPrefillMatchesFloat64Reference() {
        long seed = 11L;
        RefWeights w = RefWeights.random(seed, 64, 96, 3, 8, 2, 8, 120, 32, 8, 10000.0, null, true);
        List<String> log = new ArrayList<>();
        try (ModelFile f = w.toModelFile("synthetic-gqa-seed" + seed); Llama llama = load(f, log)) {
            int[] prompt = randomTokens(seed, 19, w.vocab());
            Float64Reference ref = new Float64Reference(w, 24);
            try (LlamaSession s = llama.newSession(24, 5)) { // 19 tokens in chunks of 5, 5, 5, 4
                float[][] rows = s.forwardAll(prompt, 0, prompt.length);
                for (int i = 0; i < prompt.length; i++) {
                    double e = LlamaForwardTest.relativeError(rows[i], ref.step(prompt[i]));
                    assertTrue(e <= 1e-4, "seed " + seed + " position " + i + " relative error " + e);
                }
                float[] next = s.forward(new int[]{3}, 0, 1);
                double e = LlamaForwardTest.relativeError(next, ref.step(3));
                assertTrue(e <= 1e-4, "seed " + seed + " decode after chunked prefill: relative error " + e);
            }
        }
    }
}
