package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.spi.ActivationBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel path this machine can run (Vector API; native AVX2; native AVX-512 VNNI) against
 * {@link IntegerReference}, bit for bit, on random ragged shapes: partials, whole outputs and row ranges.
 */
class KernelPathsTest {

    private static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    /** The paths to check here: the Vector API always, each native level the CPU and the library support. */
    static List<NativeFq6.Level> levels() {
        List<NativeFq6.Level> out = new ArrayList<>(List.of(NativeFq6.Level.NONE));
        NativeFq6 lib = NativeFq6.get();
        for (NativeFq6.Level l : NativeFq6.Level.values()) {
            if (l != NativeFq6.Level.NONE && lib.available() && l.compareTo(lib.level()) <= 0) {
                out.add(l);
            }
        }
        return out;
    }

    static FlexqCpuMatrix matrix(FlexqWeights w, ActivationMode mode, NativeFq6.Level level) {
        return new FlexqCpuMatrix("w", w, () -> w, mode, PoolLease.borrowed(POOL).acquire(), level);
    }

    @Test
    void nativeLibraryLoadsOnLinuxX8664WithGcc() {
        // CI and the development machine build the library (gcc present); elsewhere this says why it is skipped
        String os = System.getProperty("os.name", "").toLowerCase();
        Assumptions.assumeTrue(os.contains("linux") && System.getProperty("os.arch").equals("amd64"), "not linux/amd64");
        Assumptions.assumeTrue(NativeFq6.class.getResource(NativeFq6.RESOURCE) != null, "library not built (no gcc)");
        NativeFq6 lib = NativeFq6.get();
        assertTrue(lib.available(), lib.why());
        assertTrue(lib.level().compareTo(NativeFq6.Level.AVX2) >= 0, lib.why());
        assertEquals("turned off (-Dflexq.cpu.native=false)", NativeFq6.load(false).why());
    }

    @Test
    void everyPathEqualsTheReferenceOnRandomRaggedShapes() {
        long seed = 1301L;
        Random rnd = new Random(seed);
        int[] colsChoices = {1, 5, 100, 128, 129, 260, 384, 1000};
        int[] tokenChoices = {1, 2, 3, 4, 5, 7, 9, 17};
        int[] rowChoices = {1, 15, 16, 17, 33, 64, 100, 130};
        for (int trial = 0; trial < 24; trial++) {
            int cols = colsChoices[rnd.nextInt(colsChoices.length)];
            int tokens = tokenChoices[trial % tokenChoices.length];
            int rows = rowChoices[rnd.nextInt(rowChoices.length)];
            ActivationMode mode = trial % 2 == 0 ? ActivationMode.A8 : ActivationMode.A6;
            FlexqWeights w = TestData.weights(rnd, rows, cols);
            float[] x = TestData.activations(rnd, tokens, cols);
            QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
            int[] wantP = IntegerReference.partials(w, a);
            float[] want = IntegerReference.matmul(w, a);
            int lo = rnd.nextInt(rows), hi = lo + 1 + rnd.nextInt(rows - lo);
            for (NativeFq6.Level level : levels()) {
                String ctx = "seed " + seed + ", trial " + trial + ": " + tokens + " tokens x " + rows + " rows x " + cols
                        + " cols, " + mode + ", path " + level;
                FlexqCpuMatrix m = matrix(w, mode, level);
                try (Arena arena = Arena.ofConfined()) {
                    ActivationBatch in = FastPathTest.batch(arena, x, tokens, cols);
                    assertArrayEquals(wantP, m.partials(in), ctx);
                    assertBits(want, FastPathTest.run(m, in), ctx);
                    ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                    m.matmul(in, out, lo, hi);
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            float got = out.get(t, r);
                            if (r >= lo && r < hi) {
                                assertEquals(Float.floatToRawIntBits(want[t * rows + r]), Float.floatToRawIntBits(got),
                                        ctx + ", rows [" + lo + ", " + hi + "), token " + t + " row " + r);
                            } else {
                                assertEquals(0f, got, ctx + ": row " + r + " outside [" + lo + ", " + hi + ") was written");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The integer kernel with the quantizer's group sums and with none (it sums the codes itself, as for activations
     * quantized in Java): both equal the reference bit for bit on every level.
     */
    @Test
    void theKernelGivesTheSameBitsWithTheQuantizersSumsAndWithout() {
        Assumptions.assumeTrue(NativeFq6.get().quantizes(), "native quantizer: " + NativeFq6.get().why());
        long seed = 1307L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 8; trial++) {
            int cols = new int[]{100, 128, 300, 1000}[trial % 4], tokens = new int[]{1, 5, 9, 70}[trial / 2 % 4], rows = 16 + rnd.nextInt(90);
            ActivationMode mode = trial % 2 == 0 ? ActivationMode.A8 : ActivationMode.A6;
            FlexqWeights w = TestData.weights(rnd, rows, cols);
            float[] x = TestData.activations(rnd, tokens, cols);
            QuantizedActivations java = ActivationQuantizer.quantize(x, tokens, cols, mode);
            float[] want = IntegerReference.matmul(w, java);
            for (NativeFq6.Level level : levels()) {
                if (level == NativeFq6.Level.NONE) {
                    continue; // the Java kernel: no native gemm to hand sums to
                }
                String ctx = "seed " + seed + ", trial " + trial + ": " + tokens + " x " + rows + " x " + cols + ", " + mode + ", " + level;
                try (Arena arena = Arena.ofConfined()) {
                    QuantizedActivations nat = FlexqCpuMatrix.nativeQuantize(FastPathTest.batch(arena, x, tokens, cols), mode);
                    assertNotNull(nat.codeSumsArray(), ctx);
                    assertNull(java.codeSumsArray(), ctx);
                    NativeInt6Kernels k = new NativeInt6Kernels(w, NativeFq6.get(), level, arena);
                    for (QuantizedActivations a : new QuantizedActivations[]{nat, java}) {
                        float[] y = new float[tokens * rows];
                        k.gemm(a, 0, k.tasks, MemorySegment.ofArray(y), rows, 0, rows, null);
                        assertBits(want, y, ctx + (a == nat ? ", with sums" : ", without"));
                    }
                }
            }
        }
    }

    /** Largest products (-32 * -128) and both code extremes: the unsigned offset and 16-bit pair sums at their bounds. */
    @Test
    void extremeCodesStayExactOnEveryPath() {
        int rows = 19, cols = 384, tokens = 5;
        Random rnd = new Random(1302L);
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (rnd.nextBoolean() ? -32 : 31);
        }
        Arrays.fill(codes, 0, cols, (byte) -32);
        short[] scales = new short[rows * 3];
        Arrays.fill(scales, Float.floatToFloat16(1f));
        FlexqWeights w = FlexqWeights.of("extreme", rows, cols, codes, scales);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(3) == 0 ? 1f : -1f;
        }
        Arrays.fill(x, 0, cols, -1f);
        QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, ActivationMode.A8);
        int[] want = IntegerReference.partials(w, a);
        assertEquals(128 * 32 * 127, want[0], "P = 128 * (-32) * (-127)");
        for (NativeFq6.Level level : levels()) {
            try (Arena arena = Arena.ofConfined()) {
                ActivationBatch in = FastPathTest.batch(arena, x, tokens, cols);
                FlexqCpuMatrix m = matrix(w, ActivationMode.A8, level);
                assertArrayEquals(want, m.partials(in), "path " + level);
                assertBits(IntegerReference.matmul(w, a), FastPathTest.run(m, in), "path " + level);
            }
        }
    }

    /** The native quantizer against ActivationQuantizer: ties, NaN, infinities, zeros, tiny groups, ragged tails. */
    @Test
    void nativeQuantizerEqualsTheJavaQuantizerBitForBit() {
        Assumptions.assumeTrue(NativeFq6.get().quantizes(), "native quantizer: " + NativeFq6.get().why());
        long seed = 1305L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 40; trial++) {
            int cols = 1 + rnd.nextInt(700), tokens = 1 + rnd.nextInt(5);
            ActivationMode mode = trial % 2 == 0 ? ActivationMode.A8 : ActivationMode.A6;
            float[] x = TestData.activations(rnd, tokens, cols);
            for (int i = 0; i < x.length; i++) {
                switch (rnd.nextInt(60)) {
                    case 0 -> x[i] = (rnd.nextInt(255) - 127) * 0.5f; // exact ties after scaling by a power of two
                    case 1 -> x[i] = trial % 5 == 0 ? Float.NaN : 0f;
                    case 2 -> x[i] = trial % 7 == 0 ? Float.NEGATIVE_INFINITY : -0f;
                    case 3 -> x[i] = trial % 3 == 0 ? 1e-42f : x[i]; // subnormal: Q / amax overflows to infinity
                    default -> { }
                }
            }
            if (trial % 4 == 1) {
                java.util.Arrays.fill(x, 0, Math.min(x.length, 128), 0f); // an all-zero group
            }
            if (trial % 6 == 2) {
                java.util.Arrays.fill(x, 0, Math.min(x.length, 200), 1e-40f); // a group of subnormals only
            }
            QuantizedActivations want = ActivationQuantizer.quantize(x, tokens, cols, mode);
            try (Arena arena = Arena.ofConfined()) {
                QuantizedActivations got = FlexqCpuMatrix.nativeQuantize(FastPathTest.batch(arena, x, tokens, cols), mode);
                String ctx = "seed " + seed + ", trial " + trial + ": " + tokens + " x " + cols + ", " + mode;
                assertArrayEquals(want.codesArray(), got.codesArray(), ctx);
                assertEquals(want.scalesArray().length, got.scalesArray().length, ctx);
                for (int i = 0; i < want.scalesArray().length; i++) {
                    assertEquals(Float.floatToRawIntBits(want.scalesArray()[i]), Float.floatToRawIntBits(got.scalesArray()[i]), ctx + ", scale " + i);
                }
                // the group sums it hands the integer kernel: summed here from the Java quantizer's codes
                int groups = want.groups();
                assertEquals(tokens * groups, got.codeSumsArray().length, ctx);
                for (int t = 0; t < tokens; t++) {
                    for (int g = 0; g < groups; g++) {
                        int sum = 0;
                        for (int k = 0; k < 128; k++) {
                            sum += want.codesArray()[t * want.paddedCols() + g * 128 + k];
                        }
                        assertEquals(sum, got.codeSumsArray()[t * groups + g], ctx + ", sum of token " + t + " group " + g);
                    }
                }
            }
        }
    }

    private static void assertBits(float[] want, float[] got, String ctx) {
        assertEquals(want.length, got.length, ctx);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), ctx + ", output " + i);
        }
    }
}
