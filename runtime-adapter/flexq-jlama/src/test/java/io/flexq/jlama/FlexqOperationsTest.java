package io.flexq.jlama;

import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.Q8ByteBufferTensor;
import com.github.tjake.jlama.tensor.operations.PanamaTensorOperations;
import com.github.tjake.jlama.util.MachineSpec;
import io.flexq.plugin.cpu.FlexqCpuMatrix;
import io.flexq.plugin.cpu.IntegerReference;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.WeightQuantizer;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Jlama receives from FlexQ, without the rest of the model: products on an {@link Fq6Tensor} through every
 * entry point Jlama 0.8.4 uses, split into chunks as {@code VectorMath.pchunk} splits them, are bit-identical
 * to FlexQ's scalar integer reference (W6A6 / W6A8) on the same F32 activations; Jlama I8 activations are
 * dequantized first (the reference then gets Jlama's dequantized values).
 */
class FlexqOperationsTest {

    static final long SEED = 0x1A3A_0009L;

    @Test
    void chunkedProductsEqualTheIntegerReferenceBitForBit() {
        Random rnd = new Random(SEED);
        int rows = 100, cols = 384, tokens = 5;
        float[] w = gaussian(rnd, rows * cols);
        FlexqWeights fw = WeightQuantizer.rtn().quantize("w", w, rows, cols).weights();
        FlexqOperations ops = new FlexqOperations(new PanamaTensorOperations(MachineSpec.VECTOR_TYPE), new Routing());
        for (ActivationMode mode : new ActivationMode[]{ActivationMode.A8, ActivationMode.A6}) {
            Fq6Tensor t = new Fq6Tensor("model.layers.0.mlp.up_proj.weight", new FlexqCpuMatrix("blk.0.ffn_up.weight", fw, mode, new ForkJoinPool(1)));
            float[] x = gaussian(rnd, tokens * cols);
            FloatBufferTensor a = new FloatBufferTensor(tokens, cols);
            for (int i = 0; i < tokens; i++) {
                for (int c = 0; c < cols; c++) {
                    a.set(x[i * cols + c], i, c);
                }
            }
            float[] want = IntegerReference.matmul(fw, ActivationQuantizer.quantize(x, tokens, cols, mode));
            // dotProductChunk in uneven chunks (as pchunk gives the remainder to the last one)
            FloatBufferTensor r1 = new FloatBufferTensor(tokens, rows);
            for (int[] chunk : new int[][]{{0, 33}, {33, 33}, {66, 34}}) {
                ops.dotProductChunk(r1, a, t, 0, cols, chunk[0], chunk[1]);
            }
            check(want, r1, tokens, rows, 0, mode + " dotProductChunk");
            // dotProductBatchChunk over two weights (Jlama's gate/up and q/k/v path)
            FloatBufferTensor r2 = new FloatBufferTensor(tokens, rows);
            FloatBufferTensor r3 = new FloatBufferTensor(tokens, rows);
            ops.dotProductBatchChunk(new AbstractTensor[]{r2, r3}, a, new AbstractTensor[]{t, t}, 0, cols, 0, rows);
            check(want, r2, tokens, rows, 0, mode + " dotProductBatchChunk[0]");
            check(want, r3, tokens, rows, 0, mode + " dotProductBatchChunk[1]");
            // 9-argument batchDotProduct with a result offset (written element by element)
            FloatBufferTensor r4 = new FloatBufferTensor(tokens, rows + 7);
            ops.batchDotProduct(r4, a, t, 0, 0, cols, 7, 0, rows);
            check(want, r4, tokens, rows, 7, mode + " batchDotProduct with result offset 7");
            // 6-argument batchDotProduct (whole matrix)
            FloatBufferTensor r5 = new FloatBufferTensor(tokens, rows);
            ops.batchDotProduct(r5, a, t, 0, 0, cols);
            check(want, r5, tokens, rows, 0, mode + " batchDotProduct(6)");
        }
    }

    @Test
    void jlamaI8ActivationsAreDequantizedBeforeFlexqQuantizesThem() {
        Random rnd = new Random(SEED + 1);
        int rows = 40, cols = 256, tokens = 3;
        FlexqWeights fw = WeightQuantizer.rtn().quantize("w", gaussian(rnd, rows * cols), rows, cols).weights();
        Fq6Tensor t = new Fq6Tensor("model.layers.0.mlp.down_proj.weight", new FlexqCpuMatrix("blk.0.ffn_down.weight", fw, ActivationMode.A8, new ForkJoinPool(1)));
        FloatBufferTensor f = new FloatBufferTensor(tokens, cols);
        float[] x = gaussian(rnd, tokens * cols);
        for (int i = 0; i < tokens; i++) {
            for (int c = 0; c < cols; c++) {
                f.set(x[i * cols + c], i, c);
            }
        }
        Q8ByteBufferTensor q8 = new Q8ByteBufferTensor(f);
        float[] seen = new float[tokens * cols];
        for (int i = 0; i < tokens; i++) {
            for (int c = 0; c < cols; c++) {
                seen[i * cols + c] = q8.get(i, c);
            }
        }
        FlexqOperations ops = new FlexqOperations(new PanamaTensorOperations(MachineSpec.VECTOR_TYPE), new Routing());
        FloatBufferTensor r = new FloatBufferTensor(tokens, rows);
        ops.dotProductChunk(r, q8, t, 0, cols, 0, rows);
        check(IntegerReference.matmul(fw, ActivationQuantizer.quantize(seen, tokens, cols, ActivationMode.A8)), r, tokens, rows, 0, "I8 input");
        assertEquals(1, ops.routing().dequantizedInputs());
    }

    private static void check(float[] want, AbstractTensor got, int tokens, int rows, int offset, String what) {
        for (int i = 0; i < tokens; i++) {
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToRawIntBits(want[i * rows + r]), Float.floatToRawIntBits(got.get(i, r + offset)),
                        what + ", seed " + SEED + ", token " + i + ", row " + r + ": " + want[i * rows + r] + " vs " + got.get(i, r + offset));
            }
        }
        assertTrue(tokens > 0);
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
