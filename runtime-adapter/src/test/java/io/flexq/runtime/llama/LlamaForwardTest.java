package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass on stories260K (loaded by the llama2.c loader) against the float64 reference (which reads the
 * .bin itself), the NumPy greedy ids and llama.cpp's logits.
 */
class LlamaForwardTest {

    static RefWeights stories;
    static ModelFile file;
    static Llama model;
    static final List<String> log = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        Path bin = SharedData.require("models/stories260K.bin");
        stories = RefWeights.readLlama2c(bin);
        ClassLoader loader = LlamaForwardTest.class.getClassLoader();
        file = ModelFiles.open(bin, BuiltinTypes.registry(loader));
        model = Llama.load(file, Backends.discover(loader, log::add), List.of(), log::add);
    }

    @AfterAll
    static void close() {
        model.close();
        file.close();
    }

    /** The ids on the first non-comment line of stories260K-greedy.txt (computed by an independent NumPy forward). */
    static int[] referenceGreedyIds() throws IOException {
        for (String line : Files.readAllLines(SharedData.require("models/stories260K-greedy.txt"))) {
            if (!line.startsWith("#") && !line.isBlank()) {
                return Arrays.stream(line.trim().split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
            }
        }
        throw new IllegalStateException("no ids in stories260K-greedy.txt");
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    /** max_i |got_i - ref_i| / max_i |ref_i|: the error relative to the logits' scale. */
    static double relativeError(float[] got, double[] ref) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxDiff / maxRef;
    }

    @Test
    void greedyFromBosReproducesThe160ReferenceTokens() throws IOException {
        int[] expected = referenceGreedyIds();
        assertEquals(160, expected.length);
        int[] got = new int[expected.length];
        try (LlamaSession s = model.newSession(512)) {
            int token = 1;
            for (int i = 0; i < expected.length; i++) {
                token = argmax(s.forward(new int[]{token}, 0, 1));
                got[i] = token;
            }
        }
        assertArrayEquals(expected, got, "greedy ids from BOS");
    }

    @Test
    void logitsAfterBosMatchLlamaCppTop5() {
        // llama.cpp v0.4.0, F32 GGUF, F32 KV cache, flash attention off (models/README.md); printed to 5 decimals
        int[] ids = {403, 385, 410, 317, 407};
        double[] values = {17.02352, 15.40621, 13.10826, 12.76917, 12.41809};
        float[] logits;
        try (LlamaSession s = model.newSession(512)) {
            logits = s.forward(new int[]{1}, 0, 1);
        }
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        for (int i = 0; i < 5; i++) {
            assertEquals(ids[i], order[i], "rank " + i);
            assertEquals(values[i], logits[ids[i]], 1e-4, "logit of " + ids[i]);
        }
        double mean = 0;
        for (float f : logits) {
            mean += f;
        }
        assertEquals(-2.09018, mean / logits.length, 1e-3, "mean logit");
    }

    @Test
    void prefillAndDecodeMatchFloat64ReferenceOnSeveralPrompts() throws IOException {
        long seed = 20261128L;
        SplittableRandom r = new SplittableRandom(seed);
        int[] greedy = referenceGreedyIds();
        int[] random = new int[30];
        random[0] = 1;
        for (int i = 1; i < random.length; i++) {
            random[i] = r.nextInt(stories.vocab());
        }
        int[][] prompts = {
                {1},
                prepend(1, Arrays.copyOf(greedy, 20)),
                random,
                prepend(1, Arrays.copyOfRange(greedy, 40, 47)),
        };
        for (int[] prompt : prompts) {
            checkAgainstReference(stories, model, prompt, 12, 1e-4, "stories260K seed " + seed + " prompt " + Arrays.toString(prompt));
        }
    }

    /** Prefills {@code prompt} as one batch, then decodes {@code decodeSteps} greedy tokens, comparing every position's logits. */
    static void checkAgainstReference(RefWeights w, Llama llama, int[] prompt, int decodeSteps, double tolerance, String what) {
        Float64Reference ref = new Float64Reference(w, prompt.length + decodeSteps);
        try (LlamaSession s = llama.newSession(prompt.length + decodeSteps)) {
            float[][] prefill = s.forwardAll(prompt, 0, prompt.length);
            float[] last = null;
            for (int i = 0; i < prompt.length; i++) {
                double e = relativeError(prefill[i], ref.step(prompt[i]));
                assertTrue(e <= tolerance, what + ": prefill position " + i + " relative error " + e);
                last = prefill[i];
            }
            for (int step = 0; step < decodeSteps; step++) {
                int next = argmax(last);
                last = s.forward(new int[]{next}, 0, 1);
                double e = relativeError(last, ref.step(next));
                assertTrue(e <= tolerance, what + ": decode step " + step + " relative error " + e);
            }
        }
    }

    @Test
    void prefillOfNTokensEqualsNSingleTokenSteps() throws IOException {
        int[] prompt = prepend(1, Arrays.copyOf(referenceGreedyIds(), 40));
        float[][] batched;
        try (LlamaSession s = model.newSession(64)) {
            batched = s.forwardAll(prompt, 0, prompt.length);
            assertEquals(prompt.length, s.position());
        }
        try (LlamaSession s = model.newSession(64)) {
            for (int i = 0; i < prompt.length; i++) {
                float[] one = s.forward(prompt, i, 1);
                double[] asDouble = new double[one.length];
                for (int j = 0; j < one.length; j++) {
                    asDouble[j] = one[j];
                }
                double e = relativeError(batched[i], asDouble);
                assertTrue(e <= 1e-5, "position " + i + ": batched vs single-token relative difference " + e);
            }
        }
    }

    @Test
    void forwardReturnsTheLastRowOfForwardAll() {
        int[] prompt = {1, 403, 407, 261, 378};
        try (LlamaSession a = model.newSession(16); LlamaSession b = model.newSession(16)) {
            float[][] all = a.forwardAll(prompt, 0, prompt.length);
            assertClose(all[prompt.length - 1], b.forward(prompt, 0, prompt.length), 1e-6, "last row");
        }
    }

    @Test
    void rewindRecomputesFromTheKeptPrefix() {
        int[] prompt = {1, 403, 407, 261, 378, 432};
        try (LlamaSession s = model.newSession(16); LlamaSession fresh = model.newSession(16)) {
            s.forward(new int[]{1, 500, 501, 502}, 0, 4);
            s.rewind(1);
            float[] got = s.forward(prompt, 1, prompt.length - 1);
            // a batch of 5 and one of 6 may take different matmul kernels: equal up to float rounding
            assertClose(fresh.forward(prompt, 0, prompt.length), got, 1e-5, "after rewind");
        }
    }

    /** max |a - b| / max |a| <= tolerance. */
    static void assertClose(float[] a, float[] b, double tolerance, String what) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        assertTrue(diff / scale <= tolerance, what + ": relative difference " + diff / scale);
    }

    static int[] prepend(int first, int[] rest) {
        int[] a = new int[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }
}
