package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A CPU session takes over the KV cache of the last closed session of the same context length, rows and all: its
 * logits must be those of a session on a cache of its own, although the rows past its position hold the previous
 * session's keys and values (here a longer one's, so stale rows lie right where the new session writes next).
 */
class KvCacheReuseTest {

    private static final io.flexq.runtime.sample.GreedySampler GREEDY = new io.flexq.runtime.sample.GreedySampler();

    /** stories260K: float cache (head size 8, the Java attention); the 27M model: half-float cache where the native attention runs. */
    @ParameterizedTest
    @ValueSource(strings = {"models/stories260K-f32.gguf", "models/flexq-ref-27M-f16.gguf"})
    void aSessionOnTheCacheOfAClosedOneGivesTheLogitsOfAFreshOne(String path) {
        ClassLoader loader = KvCacheReuseTest.class.getClassLoader();
        try (ModelFile file = ModelFiles.open(SharedData.require(path), BuiltinTypes.registry(loader))) {
            SplittableRandom rnd = new SplittableRandom(1313);
            int vocab;
            float[][] fresh;
            int[] longer = new int[90], prompt = new int[37];
            try (Llama model = Llama.load(file, new Backends(List.of(new CpuBackend(PoolLease.owned(2, true))), s -> { }), List.of(), s -> { })) {
                vocab = model.config().vocabSize();
                for (int i = 0; i < longer.length; i++) {
                    longer[i] = rnd.nextInt(vocab);
                }
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = rnd.nextInt(vocab);
                }
                try (LlamaSession s = model.newSession(128)) {
                    fresh = promptThenSteps(s, prompt);
                }
            }
            try (Llama model = Llama.load(file, new Backends(List.of(new CpuBackend(PoolLease.owned(2, true))), s -> { }), List.of(), s -> { })) {
                LlamaSession first = model.newSession(128);
                first.forwardAll(longer, 0, longer.length);
                KvCache used = first.kvCache();
                try (LlamaSession other = model.newSession(64)) {
                    assertNotSame(used, other.kvCache(), "an open session's cache is its own");
                }
                first.close();
                assertThrows(IllegalStateException.class, () -> first.forward(prompt, 0, 1), "a closed session must not run");
                float[][] reused;
                try (LlamaSession other = model.newSession(64)) {
                    assertNotSame(used, other.kvCache(), "a session of another length takes a cache of its own");
                    try (LlamaSession next = model.newSession(128)) {
                        assertSame(used, next.kvCache(), "the next session of the same length takes the closed one's cache");
                        reused = promptThenSteps(next, prompt);
                    }
                }
                assertEquals(fresh.length, reused.length);
                for (int t = 0; t < fresh.length; t++) {
                    assertArrayEquals(fresh[t], reused[t], "step " + t + " on the closed session's cache");
                }
            }
        }
    }

    /** The prompt's logits of every token, then 5 greedy steps' logits. */
    private static float[][] promptThenSteps(LlamaSession s, int[] prompt) {
        float[][] all = s.forwardAll(prompt, 0, prompt.length);
        float[][] out = java.util.Arrays.copyOf(all, all.length + 5);
        int[] next = {GREEDY.sample(all[all.length - 1])};
        for (int i = 0; i < 5; i++) {
            out[all.length + i] = s.forward(next, 0, 1);
            next[0] = GREEDY.sample(out[all.length + i]);
        }
        return out;
    }
}
