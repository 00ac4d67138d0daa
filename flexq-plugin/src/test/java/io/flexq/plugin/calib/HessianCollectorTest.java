package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.SyntheticLlama;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hessian accumulation (calib.HessianAccumulator, calib.HessianCollector) against float64 references written here. */
class HessianCollectorTest {

    static final long SEED = 777L;
    static final ClassLoader LOADER = HessianCollectorTest.class.getClassLoader();

    @TempDir
    Path dir;

    @Test
    void accumulatorEqualsTwoOverNXtX() {
        Random rnd = new Random(SEED);
        int k = 37;
        HessianAccumulator acc = new HessianAccumulator(k);
        List<float[]> batches = new ArrayList<>();
        int n = 0;
        for (int t : new int[] {5, 1, 19}) {
            float[] x = new float[t * k];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            acc.add(x, t);
            batches.add(x);
            n += t;
        }
        double[] h = acc.hessian();
        assertEquals(n, acc.tokens());
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (float[] x : batches) {
                    for (int t = 0; t < x.length / k; t++) {
                        s += (double) x[t * k + i] * x[t * k + j];
                    }
                }
                assertEquals(2 * s / n, h[i * k + j], 1e-5 * (1 + Math.abs(s)), "seed " + SEED + ", (" + i + ", " + j + ")");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> acc.add(new float[] {Float.NaN}, 1));
    }

    /**
     * Block 0's attention input is rmsnorm(token embedding) * attn_norm (all ones in the synthetic model), which the
     * test computes on its own: the collected Hessian of blk.0.attn_q/k/v must be 2/n sum x x^T of those vectors.
     */
    @Test
    void collectedHessianOfBlockZeroMatchesTheNormedEmbeddings() throws Exception {
        SyntheticLlama m = new SyntheticLlama(128, 200, 2, 4, 2, 256, SEED);
        Path file = m.write(dir.resolve("m.gguf"), FloatTypes.F32);
        TensorTypes types = BuiltinTypes.registry(LOADER);
        Random rnd = new Random(SEED + 1);
        List<int[]> windows = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int[] t = new int[40];
            for (int i = 0; i < t.length; i++) t[i] = rnd.nextInt(256);
            windows.add(t);
        }
        try (ModelFile src = GgufFile.open(file, types)) {
            HessianCollector c = HessianCollector.collect(src, Backends.discover(LOADER, s -> { }), windows, s -> { }, d -> { });
            assertEquals(2 * 4 + 1, c.inputs().size(), "attn_in, attn_output, ffn_in, ffn_down per block, and the head's: " + c.inputs().keySet());
            assertEquals(128, c.headHessian().orElseThrow().dim());
            HessianAccumulator q = c.hessianFor("blk.0.attn_q.weight").orElseThrow();
            assertSame(q, c.hessianFor("blk.0.attn_v.weight").orElseThrow());
            assertSame(c.hessianFor("blk.1.ffn_gate.weight").orElseThrow(), c.hessianFor("blk.1.ffn_up.weight").orElseThrow());
            assertEquals(200, c.hessianFor("blk.1.ffn_down.weight").orElseThrow().dim());
            for (HessianAccumulator a : c.inputs().values()) {
                assertEquals(80, a.tokens(), "every input sees every token once");
            }
            int dim = 128;
            float[] emb = m.weights.get("token_embd.weight");
            double[] want = new double[dim * dim];
            for (int[] w : windows) {
                for (int tok : w) {
                    double ss = 0;
                    for (int i = 0; i < dim; i++) ss += (double) emb[tok * dim + i] * emb[tok * dim + i];
                    double inv = 1 / Math.sqrt(ss / dim + 1e-5);
                    for (int i = 0; i < dim; i++) {
                        for (int j = 0; j < dim; j++) {
                            want[i * dim + j] += emb[tok * dim + i] * inv * emb[tok * dim + j] * inv;
                        }
                    }
                }
            }
            double[] h = q.hessian();
            for (int i = 0; i < want.length; i++) {
                double wv = 2 * want[i] / 80;
                assertEquals(wv, h[i], 1e-4 * (1 + Math.abs(wv)), "seed " + SEED + ", entry " + i);
            }

            // the GPTQ model quantizer turns every linear into valid FQ6 whose output error on the calibration inputs is
            // below the clipping quantizer's (checked on block 0's q, whose inputs the test knows)
            List<ModelQuantizer.Layer> layers = GptqModelQuantizer.quantize(src, new Gptq(WeightQuantizer.clipping(), Gptq.DEFAULT_DAMPING), c, (d, n) -> { });
            assertEquals(14, layers.size());
            List<ModelQuantizer.Layer> clip = ModelQuantizer.quantize(src, WeightQuantizer.clipping(), (d, n) -> { });
            ModelQuantizer.Layer gq = layers.getFirst();
            assertEquals("blk.0.attn_q.weight", gq.name());
            FlexqWeights gw = FlexqWeights.readFq6("g", MemorySegment.ofArray(gq.fq6()), gq.rows(), gq.cols());
            FlexqWeights cw = FlexqWeights.readFq6("c", MemorySegment.ofArray(clip.getFirst().fq6()), gq.rows(), gq.cols());
            float[] w = m.weights.get("blk.0.attn_q.weight");
            double eg = quadratic(w, gw, h, dim), ec = quadratic(w, cw, h, dim);
            assertTrue(eg < ec, "seed " + SEED + ": GPTQ output error " + eg + " vs clipping " + ec);
            for (ModelQuantizer.Layer l : layers) {
                FlexqWeights.readFq6(l.name(), MemorySegment.ofArray(l.fq6()), l.rows(), l.cols()); // format checks
            }
        }
    }

    private static double quadratic(float[] w, FlexqWeights q, double[] h, int k) {
        double total = 0;
        float[] deq = new float[k];
        for (int r = 0; r < q.rows(); r++) {
            q.dequantizeRow(r, deq, 0);
            for (int i = 0; i < k; i++) {
                double di = w[r * k + i] - (double) deq[i];
                for (int j = 0; j < k; j++) {
                    total += di * h[i * k + j] * (w[r * k + j] - (double) deq[j]);
                }
            }
        }
        return total;
    }
}
