package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native prompt GEMM ({@link NativeGemm}) against the Vector API panel loop it replaces, bit for bit, on random
 * ragged shapes of every built-in type: rows that are not a multiple of 4 or 16 (the rest stays on the Vector API),
 * row lengths past one 512-column panel and with a tail of fewer than 16 columns, token counts around the 4-token
 * tile and the 32-token tile. Both are also checked against a float64 product ({@link KernelCheck#compare}).
 */
class NativeGemmTest {

    @Test
    void nativePanelsEqualTheVectorLoopBitForBitAndFloat64WithinTheBound() {
        Assumptions.assumeTrue(NativeGemm.available(), "no native GEMM here (" + Simd.describe() + ")");
        long seed = 1313L;
        Random rnd = new Random(seed);
        CpuBackend backend = new CpuBackend(new ForkJoinPool(1));
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                for (int trial = 0; trial < 3; trial++) {
                    int block = type.blockSize();
                    int cols = block == 1 ? 1 + rnd.nextInt(1100) : block * (1 + rnd.nextInt(Math.max(1, 1100 / block)));
                    int rows = 1 + rnd.nextInt(40);
                    int tokens = 2 + rnd.nextInt(39);
                    KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                    CpuMatrix m = backend.load("w", type, rows, cols, c.segment(arena, trial % 2 == 0));
                    ActivationBatch in = KernelCheck.randomBatch(arena, tokens, cols, rnd);
                    ActivationBatch fast = ActivationBatch.allocate(arena, tokens, rows);
                    ActivationBatch vector = ActivationBatch.allocate(arena, tokens, rows);
                    m.gemmOnCaller(in, fast, true);
                    m.gemmOnCaller(in, vector, false);
                    String ctx = "seed " + seed + ", " + type.name() + " " + rows + "x" + cols + ", " + tokens + " tokens";
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(vector.get(t, r)), Float.floatToRawIntBits(fast.get(t, r)),
                                    ctx + ", token " + t + " row " + r + ": " + fast.get(t, r) + " vs " + vector.get(t, r));
                        }
                    }
                    List<String> failures = KernelCheck.compare(c, in, fast, "native gemm");
                    assertTrue(failures.isEmpty(), ctx + ": " + failures);
                }
            }
        }
    }
}
