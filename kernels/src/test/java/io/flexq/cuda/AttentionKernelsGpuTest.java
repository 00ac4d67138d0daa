package io.flexq.cuda;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warp-per-position attention kernels (head sizes 64 and 128, the shapes of real Llamas) against the
 * one-position-per-thread kernel that {@link CudaDecoderGpuTest} checks against the host, on random FQ6 models of
 * those head sizes: a 300-token prompt in chunks of 200 rows (128-position attention chunks) and then decode steps
 * (32-position chunks, 10 of them), logits of every row compared. The two kernels sum in other orders, so the logits
 * may differ by rounding only. The matmuls run as W6A16 (fp32 activations): with A8 a rounding difference can move an
 * activation code by a step, which would hide the kernels' own difference under quantization noise.
 */
@Tag("gpu")
class AttentionKernelsGpuTest {

    @BeforeAll
    static void needsGpu() {
        GpuTestData.assumeGpu();
    }

    @ParameterizedTest(name = "head size {0}, cache read before the qkv matmul ends: {1}")
    @CsvSource({"64, true", "64, false", "128, true", "128, false"})
    void warpKernelsEqualTheGenericKernel(int hd, boolean preload) {
        List<float[]> generic = logits(shape(hd), "generic");
        List<float[]> warps = withProperty("flexq.cuda.preloadCache", String.valueOf(preload), () -> logits(shape(hd), null));
        assertWithinRounding(generic, warps, 0, "head size " + hd + ": " + generic.size() + " rows");
    }

    /**
     * Decode attention with 8 or 16 warps a block (head size 128; chunks of 32 or 64 positions) against the generic
     * kernel, at 4, 8 and 1 query heads per key/value head (a head's merge split in 2 or 4 slices, or whole).
     */
    @ParameterizedTest(name = "{0} warps, chunks of {1}, {2} key/value heads of 8")
    @CsvSource({"8, 32, 2", "16, 32, 2", "8, 64, 2", "16, 64, 2", "8, 32, 1", "16, 64, 1", "8, 32, 8", "16, 32, 8"})
    void moreWarpsABlockEqualTheGenericKernel(int warps, int chunk, int kvHeads) {
        ModelShape shape = shape(128, kvHeads);
        List<float[]> generic = logits(shape, "generic");
        List<float[]> more = withProperty("flexq.cuda.decodeWarps", String.valueOf(warps),
                () -> withProperty("flexq.cuda.decodeChunk", String.valueOf(chunk), () -> logits(shape, null)));
        assertWithinRounding(generic, more, 0, warps + " warps, chunks of " + chunk + ", " + kvHeads + " kv heads");
    }

    /**
     * The merge split in slices over the warps of the merging block (8 or 16 warps) does each dimension's operations as
     * the separate merge kernel does: logits equal bit for bit, A8 (the staged head quantized by one warp).
     */
    @ParameterizedTest(name = "{0} warps, {1} key/value heads of 8")
    @CsvSource({"8, 2", "16, 2", "16, 1", "8, 8"})
    void mergeSlicesEqualTheSeparateMergeBitForBit(int warps, int kvHeads) {
        List<List<float[]>> runs = withProperty("flexq.cuda.decodeWarps", String.valueOf(warps),
                () -> separateThenFused(() -> logits(shape(128, kvHeads), null, "a8")));
        assertBitForBit(runs.get(0), runs.get(1), "separate merge", warps + " warps merging in slices");
        System.out.printf("[attention] %d warps, %d kv heads: merge in slices equals the separate merge bit for bit, %d rows%n",
                warps, kvHeads, runs.get(0).size());
    }

    /**
     * Decode steps merge the attention chunks inside the attention kernel (its last block per key/value head), with the
     * same merge code as the separate merge kernel: logits equal bit for bit, here with A8 activations so that the
     * merge's quantization of the O projection's input (head size 128: one group per head) is part of it. The decode
     * steps after a 300-token prompt span ten 32-position chunks.
     */
    @ParameterizedTest(name = "head size {0}")
    @ValueSource(ints = {64, 128})
    void mergeInTheAttentionKernelEqualsTheSeparateMergeBitForBit(int hd) {
        List<List<float[]>> runs = separateThenFused(() -> logits(shape(hd), null, "a8"));
        assertBitForBit(runs.get(0), runs.get(1), "separate merge", "in the attention kernel");
        System.out.printf("[attention] head size %d: merge in the attention kernel equals the separate merge bit for bit, %d rows%n",
                hd, runs.get(0).size());
    }

    /**
     * Each decode-step switch alone, off against on, A8, bit for bit: the cache read before the qkv matmul ends (the same
     * values, loaded earlier).
     */
    @ParameterizedTest(name = "head size {0}, {1}={2} vs {1}={3}")
    @CsvSource({"64, preloadCache, false, true", "128, preloadCache, false, true"})
    void eachDecodeFusionEqualsItsSeparateFormBitForBit(int hd, String flag, String off, String on) {
        List<List<float[]>> runs = new ArrayList<>();
        for (String value : new String[] {off, on}) {
            runs.add(withProperty("flexq.cuda." + flag, value, () -> logits(shape(hd), null, "a8")));
        }
        assertBitForBit(runs.get(0), runs.get(1), flag + "=" + off, flag + "=" + on);
        System.out.printf("[attention] head size %d: %s=%s equals %s=%s bit for bit, %d rows%n", hd, flag, off, flag, on, runs.get(0).size());
    }

    /**
     * A merge of more chunks than a warp has lanes: decode steps after a 300-token prompt in 8-position chunks (38 to 40
     * chunks, so the merge takes its chunk weights in two windows of 32) against the same steps in 128-position chunks
     * (3 chunks, one window). Both merge the same attention in other splits, so the logits agree to rounding; a window
     * that weighted the wrong chunks would be off by far more.
     */
    @ParameterizedTest(name = "head size {0}")
    @ValueSource(ints = {64, 128})
    void aMergeOfMoreChunksThanLanesEqualsAMergeOfFew(int hd) {
        List<float[]> many = withProperty("flexq.cuda.decodeChunk", "8", () -> logits(shape(hd), null));
        List<float[]> few = withProperty("flexq.cuda.decodeChunk", "128", () -> logits(shape(hd), null));
        // from row 300: the decode steps (the prompt uses the prompt chunk either way)
        assertWithinRounding(few, many, 300, "head size " + hd + ": 38-40 chunks of 8 vs 3 of 128");
    }

    /** run's result with system property key set to value (cleared after). */
    private static <T> T withProperty(String key, String value, Supplier<T> run) {
        System.setProperty(key, value);
        try {
            return run.get();
        } finally {
            System.clearProperty(key);
        }
    }

    /**
     * got equals ref to rounding from row {@code from} on: max |dlogit| <= 1e-4 x the largest |logit| of ref + 1e-6 (and
     * ref is not all zero); prints both figures after {@code what}.
     */
    private static void assertWithinRounding(List<float[]> ref, List<float[]> got, int from, String what) {
        double worst = 0, scale = 0;
        for (int i = from; i < ref.size(); i++) {
            for (int v = 0; v < ref.get(i).length; v++) {
                worst = Math.max(worst, Math.abs(ref.get(i)[v] - got.get(i)[v]));
                scale = Math.max(scale, Math.abs(ref.get(i)[v]));
            }
        }
        System.out.printf("[attention] %s, max |dlogit| %.3g (largest |logit| %.3g)%n", what, worst, scale);
        assertTrue(scale > 0, "logits are not all zero");
        assertTrue(worst <= 1e-4 * scale + 1e-6, "max |dlogit| " + worst + " for logits up to " + scale);
    }

    private static void assertBitForBit(List<float[]> a, List<float[]> b, String aName, String bName) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i), y = b.get(i);
            for (int v = 0; v < x.length; v++) {
                int row = i, at = v;
                assertEquals(Float.floatToRawIntBits(x[v]), Float.floatToRawIntBits(y[v]),
                        () -> "row " + row + " logit " + at + ": " + aName + " " + x[at] + ", " + bName + " " + y[at]);
            }
        }
    }

    /**
     * The same for batched decode steps: three sequences at different positions (prompts of 40, 75 and 130 tokens: 2, 3
     * and 5 chunks of 32 positions), stepped together, each row's chunks counted and merged on their own. The greedy
     * ids of twelve steps equal those of the separate merge.
     */
    @ParameterizedTest(name = "head size {0}")
    @ValueSource(ints = {64, 128})
    void batchedStepsMergeEachRowOnItsOwn(int hd) {
        List<List<int[]>> runs = separateThenFused(() -> batchedIds(shape(hd)));
        List<int[]> separate = runs.get(0), fused = runs.get(1);
        for (int step = 0; step < separate.size(); step++) {
            assertArrayEquals(separate.get(step), fused.get(step), "head size " + hd + ", batched step " + step);
        }
        System.out.printf("[attention] head size %d: batched steps of 3 rows, merge in the attention kernel = separate merge, %d steps%n",
                hd, separate.size());
    }

    /** A two-layer synthetic model of head size hd, two key/value heads of four query heads each. */
    private static ModelShape shape(int hd) {
        return shape(hd, 2);
    }

    /** The same with 8 query heads over kvHeads key/value heads. */
    private static ModelShape shape(int hd, int kvHeads) {
        return new ModelShape("attention-hd" + hd + "-kv" + kvHeads, 8 * hd, 4 * hd, 2, 8, kvHeads, hd, 1000, 2048, 10000.0, null, false);
    }

    /** run's result with the separate merge launch ({@code flexq.cuda.fuseMerge=false}), then with the default. */
    private static <T> List<List<T>> separateThenFused(Supplier<List<T>> run) {
        List<T> separate = withProperty("flexq.cuda.fuseMerge", "false", run);
        return List.of(separate, run.get());
    }

    private static List<int[]> batchedIds(ModelShape shape) {
        List<String> log = new ArrayList<>();
        ClassLoader cl = AttentionKernelsGpuTest.class.getClassLoader();
        System.setProperty("flexq.act_preset", "a8");
        try (ModelFile f = new SyntheticFq6Model(shape, BuiltinTypes.registry(cl), 11);
             Llama d = Llama.load(f, Backends.discover(cl, log::add), List.<DecoderOffload>of(new CudaDecoderOffload()), log::add)) {
            assertTrue(d.onDevice(), "on the device: " + log);
            int[] lengths = {40, 75, 130};
            LlamaSession[] sessions = new LlamaSession[lengths.length];
            try {
                int[] next = new int[lengths.length];
                for (int i = 0; i < lengths.length; i++) {
                    sessions[i] = d.newSession(200, 200);
                    int[] prompt = new int[lengths[i]];
                    for (int j = 0; j < prompt.length; j++) {
                        prompt[j] = 1 + (j * 37 + 11 * i) % 900;
                    }
                    next[i] = sessions[i].forwardGreedy(prompt, 0, prompt.length);
                }
                List<int[]> ids = new ArrayList<>();
                for (int step = 0; step < 12; step++) {
                    next = d.decodeGreedy(sessions, next);
                    ids.add(next.clone());
                }
                return ids;
            } finally {
                for (LlamaSession s : sessions) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
        } finally {
            System.clearProperty("flexq.act_preset");
        }
    }

    private static List<float[]> logits(ModelShape shape, String attention) {
        return logits(shape, attention, "w6a16");
    }

    private static List<float[]> logits(ModelShape shape, String attention, String preset) {
        List<String> log = new ArrayList<>();
        ClassLoader cl = AttentionKernelsGpuTest.class.getClassLoader();
        if (attention == null) {
            System.clearProperty("flexq.cuda.attention");
        } else {
            System.setProperty("flexq.cuda.attention", attention);
        }
        System.setProperty("flexq.act_preset", preset);
        try (ModelFile f = new SyntheticFq6Model(shape, BuiltinTypes.registry(cl), 11);
             Llama d = Llama.load(f, Backends.discover(cl, log::add), List.<DecoderOffload>of(new CudaDecoderOffload()), log::add);
             LlamaSession s = d.newSession(400, 200)) {
            assertTrue(d.onDevice(), "on the device: " + log);
            int[] prompt = new int[300];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (i * 37) % 900;
            }
            List<float[]> out = new ArrayList<>(List.of(s.forwardAll(prompt, 0, prompt.length)));
            for (int i = 0; i < 20; i++) {
                out.add(s.forward(new int[] {1 + (i * 53) % 900}, 0, 1));
            }
            return out;
        } finally {
            System.clearProperty("flexq.cuda.attention");
            System.clearProperty("flexq.act_preset");
        }
    }
}
