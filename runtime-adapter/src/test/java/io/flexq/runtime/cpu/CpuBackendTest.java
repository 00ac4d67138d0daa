package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The built-in CPU backend multiplies every built-in type like a float64 dequantize-then-dot reference. */
class CpuBackendTest {

    static final long SEED = 0x5EED_0003L;
    /** Not shut down: its worker threads are daemons. (The other CPU test classes own their pools.) */
    static final ForkJoinPool POOL = new ForkJoinPool(3);

    @Test
    void matmulOfEveryTypeMatchesTheFloat64ReferenceForOneTokenAndForBatches() {
        List<String> failures = KernelCheck.run(SEED, POOL, false);
        assertTrue(failures.isEmpty(), String.join("\n", failures) + "\n(seed " + SEED + ", " + Simd.describe() + ")");
    }

    /**
     * With unit activations e_t the product picks one weight, and the sum is exact: out[t][r] = W[r][t].
     * This checks every element's position in the layout, through the batched GEMM (all t at once) and
     * through the one-token fused kernels (a few t).
     */
    @Test
    void unitActivationsReadBackEveryWeightExactly() {
        Random rnd = new Random(SEED);
        CpuBackend backend = new CpuBackend(POOL);
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                int cols = type.blockSize() == 256 ? 512 : type.blockSize() == 32 ? 544 : 515;
                KernelCheck.Case c = KernelCheck.Case.random(type, 21, cols, rnd);
                CpuMatrix m = backend.load("w", type, c.rows(), cols, c.segment(arena, true));
                ActivationBatch eye = ActivationBatch.allocate(arena, cols, cols);
                for (int t = 0; t < cols; t++) {
                    eye.set(t, t, 1f);
                }
                ActivationBatch out = ActivationBatch.allocate(arena, cols, c.rows());
                m.matmul(eye, out);
                ActivationBatch one = ActivationBatch.allocate(arena, 1, cols);
                ActivationBatch oneOut = ActivationBatch.allocate(arena, 1, c.rows());
                for (int t = 0; t < cols; t++) {
                    boolean gemv = t % 37 == 0 || t == cols - 1;
                    if (gemv) {
                        one.data().fill((byte) 0);
                        one.set(0, t, 1f);
                        m.matmul(one, oneOut);
                    }
                    for (int r = 0; r < c.rows(); r++) {
                        double want = c.w()[r][t];
                        // Q6_K's weight is (d * sc) * q rounded once in fp32; the others are exact
                        double tol = type == QuantTypes.Q6_K ? Math.abs(want) * 0x1p-24 : 0;
                        // Q8_0, Q4_0 and Q6_K prompts with 8-bit activations (NativeQ8): the unit becomes code 127 of scale
                        // fl(1 / 127), and d_w * d_x and the fma round once each: within 3 float roundings
                        double batchedTol = (type == QuantTypes.Q8_0 || type == QuantTypes.Q4_0 || type == QuantTypes.Q6_K) && NativeQ8.available()
                                ? Math.abs(want) * 0x1p-22 : tol;
                        // BF16 prompts with bf16 activations (NativeBf16): the unit is exact in bf16, but vdpbf16ps reads
                        // subnormal inputs as zero, so a weight under 2^-126 in magnitude may come back as 0 (and only such)
                        if (type == FloatTypes.BF16 && NativeBf16.available() && Math.abs(want) < 0x1p-126) {
                            batchedTol = Math.abs(want);
                        }
                        check(Math.abs(out.get(t, r) - want) <= batchedTol, type, "batched", r, t, out.get(t, r), want);
                        // one-token Q4_0 and Q6_K with 8-bit activations (Int8Gemv): the same three roundings
                        double oneTol = Int8Gemv.runs(type) ? Math.abs(want) * 0x1p-22 : tol;
                        if (gemv) {
                            check(Math.abs(oneOut.get(0, r) - want) <= oneTol, type, "one-token", r, t, oneOut.get(0, r), want);
                        }
                    }
                }
            }
        }
    }

    private static void check(boolean ok, TensorType type, String path, int r, int t, float got, double want) {
        if (!ok) {
            fail(type.name() + " " + path + " W[" + r + "][" + t + "]: got " + got + ", spec " + want + " (seed " + SEED + ")");
        }
    }

    /** Every output is computed in the same order whatever the chunking, so threads change no bit. */
    @Test
    void resultsDoNotDependOnTheNumberOfThreads() {
        Random rnd = new Random(SEED);
        ForkJoinPool single = new ForkJoinPool(1);
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                int cols = 768; // two column panels; 171 x 768 is past the serial threshold even for one token
                KernelCheck.Case c = KernelCheck.Case.random(type, 171, cols, rnd);
                MemorySegment w = c.segment(arena, true);
                CpuMatrix parallel = new CpuBackend(POOL).load("w", type, c.rows(), cols, w);
                CpuMatrix serial = new CpuBackend(single).load("w", type, c.rows(), cols, w);
                for (int tokens : new int[]{1, 5}) {
                    ActivationBatch in = KernelCheck.randomBatch(arena, tokens, cols, rnd);
                    ActivationBatch a = ActivationBatch.allocate(arena, tokens, c.rows());
                    ActivationBatch b = ActivationBatch.allocate(arena, tokens, c.rows());
                    parallel.matmul(in, a);
                    serial.matmul(in, b);
                    assertArrayEquals(b.data().toArray(ValueLayout.JAVA_FLOAT), a.data().toArray(ValueLayout.JAVA_FLOAT),
                            type.name() + ", " + tokens + " tokens (seed " + SEED + ")");
                }
            }
        } finally {
            single.shutdown();
        }
    }

    @Test
    void matmulSetsTheOutputTokenCountAndDropsDerivedForms() {
        try (Arena arena = Arena.ofConfined()) {
            KernelCheck.Case c = KernelCheck.Case.random(FloatTypes.F32, 8, 16, new Random(SEED));
            CpuMatrix m = new CpuBackend(POOL).load("w", FloatTypes.F32, 8, 16, c.segment(arena, false));
            ActivationBatch in = KernelCheck.randomBatch(arena, 5, 16, new Random(SEED));
            in.setTokens(3);
            ActivationBatch out = ActivationBatch.allocate(arena, 5, 8);
            Object stale = out.derived("form", b -> new Object());
            m.matmul(in, out);
            assertEquals(3, out.tokens());
            assertTrue(out.derived("form", b -> new Object()) != stale, "derived forms must be dropped");
        }
    }

    @Test
    void theMatrixKeepsTheGivenBytes() {
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                int cols = type.blockSize() * 2;
                KernelCheck.Case c = KernelCheck.Case.random(type, 4, cols, new Random(SEED));
                MemorySegment seg = c.segment(arena, true);
                CpuMatrix m = new CpuBackend(POOL).load("w", type, 4, cols, seg);
                assertEquals(seg.address(), m.data().address(), type.name());
                assertTrue(m.data().asOverlappingSlice(seg).isPresent(), type.name());
            }
        }
    }

    @Test
    void supportsIsHonestAndBadShapesAreRefusedNamingTheTensor() {
        CpuBackend cpu = new CpuBackend(POOL);
        assertTrue(cpu.supports(QuantTypes.Q6_K, 3, 512));
        assertFalse(cpu.supports(QuantTypes.Q6_K, 3, 172));
        assertFalse(cpu.supports(QuantTypes.Q8_0, 3, 100));
        assertTrue(cpu.supports(FloatTypes.F16, 64, 172));
        assertFalse(cpu.supports(FloatTypes.F32, 0, 4));

        var e = assertThrows(IllegalArgumentException.class,
                () -> cpu.load("blk.0.ffn_down.weight", QuantTypes.Q8_0, 64, 172, MemorySegment.ofArray(new byte[1 << 16])));
        assertTrue(e.getMessage().contains("blk.0.ffn_down.weight") && e.getMessage().contains("172"), e.getMessage());

        var s = assertThrows(IllegalArgumentException.class,
                () -> cpu.load("blk.1.attn_q.weight", QuantTypes.Q8_0, 64, 64, MemorySegment.ofArray(new byte[64 * 68 - 1])));
        assertTrue(s.getMessage().contains("blk.1.attn_q.weight") && s.getMessage().contains(Integer.toString(64 * 68)), s.getMessage());

        try (Arena arena = Arena.ofConfined()) {
            CpuMatrix m = cpu.load("w", FloatTypes.F32, 4, 8, MemorySegment.ofArray(new byte[128]));
            ActivationBatch wrongDim = ActivationBatch.allocate(arena, 1, 7);
            ActivationBatch out = ActivationBatch.allocate(arena, 1, 4);
            var d = assertThrows(IllegalArgumentException.class, () -> m.matmul(wrongDim, out));
            assertTrue(d.getMessage().contains("w:"), d.getMessage());
            MemorySegment shared = arena.allocate(4 * 8);
            ActivationBatch a = ActivationBatch.wrap(shared, 1, 8);
            ActivationBatch b = ActivationBatch.wrap(shared.asSlice(0, 16), 1, 4);
            assertThrows(IllegalArgumentException.class, () -> m.matmul(a, b));
        }
    }

    @Test
    void theBackendIsTheFallbackOfPriorityZero() {
        CpuBackend cpu = new CpuBackend(POOL);
        assertEquals(0, cpu.priority());
        assertTrue(cpu.availability().available());
        WeightMatrix m = cpu.load("w", QuantTypes.Q8_0, 2, 32, MemorySegment.ofArray(new byte[68]));
        assertTrue(m.describe().contains("Q8_0"), m.describe());
        assertSame(CpuBackend.class, java.util.ServiceLoader.load(io.flexq.runtime.spi.WeightBackend.class).stream()
                .map(java.util.ServiceLoader.Provider::type).filter(CpuBackend.class::equals).findFirst().orElseThrow());
    }
}
