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

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt's forward on a spinning team of 3 threads (matmuls, activation quantizing, norms, RoPE, cache writes,
 * SwiGLU and the copies between them split over the team in row or token ranges) gives the logits of every token bit
 * for bit as on one thread and as with the fork-join pool (-Dflexq.cpu.pool=forkjoin: the per-token steps on the
 * caller). Files: the 27M reference model (F16: the fp32 prompt GEMM and the native attention where it runs) and
 * stories260K in Q8_0 (8-bit activation prompts where the CPU has VNNI; the Java attention, head size 8).
 */
class PromptThreadsTest {

    @ParameterizedTest
    @ValueSource(strings = {"models/flexq-ref-27M-f16.gguf", "models/stories260K-q8_0.gguf"})
    void promptLogitsDoNotDependOnTheThreads(String path) {
        ClassLoader loader = PromptThreadsTest.class.getClassLoader();
        try (ModelFile file = ModelFiles.open(SharedData.require(path), BuiltinTypes.registry(loader))) {
            int[] prompt = new int[45]; // over the 16 tokens from which per-token steps split, not a multiple of 4
            SplittableRandom rnd = new SplittableRandom(45);
            float[][] one = null;
            List<String> failures = new ArrayList<>();
            for (String run : new String[]{"one thread", "team of 3", "fork-join of 3"}) {
                PoolLease lease = switch (run) {
                    case "one thread" -> PoolLease.owned(1, true);
                    case "team of 3" -> PoolLease.owned(3, true);
                    default -> PoolLease.owned(3, false);
                };
                try (Llama model = Llama.load(file, new Backends(List.of(new CpuBackend(lease)), s -> { }), List.of(), s -> { })) {
                    if (one == null) {
                        for (int i = 0; i < prompt.length; i++) {
                            prompt[i] = rnd.nextInt(model.config().vocabSize());
                        }
                    }
                    float[][] got;
                    try (LlamaSession s = model.newSession(64)) {
                        got = s.forwardAll(prompt, 0, prompt.length);
                    }
                    if (one == null) {
                        one = got;
                        continue;
                    }
                    for (int t = 0; t < got.length && failures.size() < 5; t++) {
                        for (int i = 0; i < got[t].length; i++) {
                            if (Float.floatToRawIntBits(got[t][i]) != Float.floatToRawIntBits(one[t][i])) {
                                failures.add(run + ": token " + t + " logit " + i + " " + got[t][i] + " vs one thread " + one[t][i]);
                                break;
                            }
                        }
                    }
                }
            }
            assertTrue(failures.isEmpty(), path + ": " + failures);
        }
    }
}
