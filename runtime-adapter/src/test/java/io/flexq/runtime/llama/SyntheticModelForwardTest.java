package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synthetic model runs as a Llama: its F32 weights, read back as raw little-endian floats into the float64
 * reference, give the logits the runtime computes from the model; its Q8_0 version (same seed) stays within
 * quantization noise of them; and a 16-layer stack keeps logits finite and of the scale the generator promises.
 */
class SyntheticModelForwardTest {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Grouped-query (2 query heads per KV head), head size 16 != dim / heads, llama3 rope scaling, widths multiples of 32. */
    private static final ModelShape SHAPE = new ModelShape("fwd", 64, 96, 2, 8, 4, 16, 48, 64, 10000.0,
            new ModelShape.Llama3Rope(4.0, 1.0, 4.0, 16), true);

    private static Llama load(SyntheticModel m) {
        List<String> log = new ArrayList<>();
        return Llama.load(m, new Backends(List.of(new CpuBackend()), log::add), List.of(), log::add);
    }

    private static float[] floats(SyntheticModel m, String name) {
        TensorEntry t = m.tensor(name);
        return t.data().asSlice(0, 4 * t.elementCount()).toArray(F32_LE);
    }

    /** The reference's view of an F32 synthetic model, read without the runtime's decoders. */
    private static RefWeights reference(SyntheticModel m) {
        ModelShape s = m.shape();
        int n = s.layers();
        float[][] attnNorm = new float[n][], wq = new float[n][], wk = new float[n][], wv = new float[n][], wo = new float[n][],
                ffnNorm = new float[n][], w1 = new float[n][], w2 = new float[n][], w3 = new float[n][];
        for (int l = 0; l < n; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = floats(m, p + "attn_norm.weight");
            wq[l] = floats(m, p + "attn_q.weight");
            wk[l] = floats(m, p + "attn_k.weight");
            wv[l] = floats(m, p + "attn_v.weight");
            wo[l] = floats(m, p + "attn_output.weight");
            ffnNorm[l] = floats(m, p + "ffn_norm.weight");
            w1[l] = floats(m, p + "ffn_gate.weight");
            w2[l] = floats(m, p + "ffn_down.weight");
            w3[l] = floats(m, p + "ffn_up.weight");
        }
        float[] emb = floats(m, "token_embd.weight");
        ModelShape.Llama3Rope r = s.llama3Rope();
        double[] llama3 = r == null ? null : new double[]{r.factor(), r.lowFreqFactor(), r.highFreqFactor(), r.originalContext()};
        return new RefWeights(s.dim(), s.hiddenDim(), n, s.heads(), s.kvHeads(), s.headSize(), s.vocabSize(), s.contextLength(),
                s.headSize(), s.ropeTheta(), 1e-5, llama3, emb, attnNorm, wq, wk, wv, wo, ffnNorm, w1, w2, w3,
                floats(m, "output_norm.weight"), s.tiedEmbeddings() ? emb : floats(m, "output.weight"), s.tiedEmbeddings());
    }

    @Test
    void f32SyntheticModelMatchesTheFloat64ReferenceOnItsWeights() {
        long seed = 21;
        try (SyntheticModel m = SyntheticModel.create(SHAPE, FloatTypes.F32, seed); Llama llama = load(m)) {
            assertEquals(SHAPE.headSize(), llama.config().headSize());
            int[] prompt = io.flexq.runtime.llama.Throughput.randomPrompt(12, SHAPE.vocabSize(), seed);
            // prompt + 6 decode steps = 18 positions: past originalContext / highFreqFactor, so the scaled bands matter
            // 1e-4 holds for the fp32 cache (the fp16 cache's bounds: HalfKvCacheTest)
            KvCacheType.run("f32", () -> LlamaForwardTest.checkAgainstReference(reference(m), llama, prompt, 6, 1e-4, "synthetic F32 seed " + seed));
        }
    }

    @Test
    void q8_0SyntheticModelStaysWithinQuantizationNoiseOfTheF32Weights() {
        long seed = 22;
        try (SyntheticModel f32 = SyntheticModel.create(SHAPE, FloatTypes.F32, seed);
             SyntheticModel q8 = SyntheticModel.create(SHAPE, QuantTypes.Q8_0, seed);
             Llama llama = load(q8)) {
            Float64Reference ref = new Float64Reference(reference(f32), 16);
            int[] prompt = io.flexq.runtime.llama.Throughput.randomPrompt(16, SHAPE.vocabSize(), seed);
            try (LlamaSession s = llama.newSession(16)) {
                float[][] rows = s.forwardAll(prompt, 0, prompt.length);
                for (int i = 0; i < prompt.length; i++) {
                    // Q8_0 moves each weight by at most absmax/254 of its block, ~0.4% of its deviation: logits move
                    // by about a percent of their scale after 2 blocks and the head; a different set of underlying
                    // floats would be off by ~100%.
                    double e = LlamaForwardTest.relativeError(rows[i], ref.step(prompt[i]));
                    assertTrue(e <= 0.05, "seed " + seed + " position " + i + ": Q8_0 vs float64 on the F32 weights, relative error " + e);
                }
            }
        }
    }

    @Test
    void sixteenLayersKeepLogitsFiniteAndOfUnitScale() {
        long seed = 23;
        ModelShape deep = new ModelShape("deep", 64, 256, 16, 4, 1, 16, 512, 64, 500000.0, null, true);
        try (SyntheticModel m = SyntheticModel.create(deep, QuantTypes.Q8_0, seed); Llama llama = load(m);
             LlamaSession s = llama.newSession(40)) {
            int[] prompt = io.flexq.runtime.llama.Throughput.randomPrompt(32, deep.vocabSize(), seed);
            float[][] rows = s.forwardAll(prompt, 0, prompt.length);
            for (int i = 0; i < rows.length; i++) {
                double sumSq = 0;
                for (float v : rows[i]) {
                    assertTrue(Float.isFinite(v), "seed " + seed + " position " + i + ": logit " + v);
                    sumSq += (double) v * v;
                }
                double rms = Math.sqrt(sumSq / rows[i].length);
                // the tied head sees a normalised state (RMS ~1) and embedding rows of deviation 1/sqrt(dim): RMS ~1
                assertTrue(rms > 0.2 && rms < 5, "seed " + seed + " position " + i + ": logit RMS " + rms);
            }
        }
    }
}
