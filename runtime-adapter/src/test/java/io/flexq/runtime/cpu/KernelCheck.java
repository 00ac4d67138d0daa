package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.RandomWeights;
import io.flexq.runtime.tensor.SpecDecoder;
import org.junit.jupiter.api.Assertions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

/**
 * The CPU backend's matmul against a float64 reference: random stored rows (made from the format description),
 * decoded by {@link SpecDecoder}, dotted in double. Used by {@link CpuBackendTest} and, through {@link #main},
 * by {@link LaneWidthTest} in child JVMs with narrower vectors.
 *
 * <p>Tolerance: an fp32 sum of n products, in any order, is within {@code n * 2^-24 * sum |w_i x_i|} of the
 * exact sum (the classic gamma_n bound), and the stored weights are exact in fp32 except Q6_K's
 * {@code (d * sc) * q} (one more rounding). We allow {@code (n + 32) * 2^-24 * sum |w_i x_i|}. With rows of at
 * most ~1,300 elements that is below 1e-4 of {@code sum |w x|}, while one wrongly decoded element moves the
 * result by about {@code 1/n} of it, some 10x more.
 */
public final class KernelCheck {

    private KernelCheck() {
    }

    /** Row lengths per type: odd ones for plain floats, whole blocks otherwise; the longest spans two 512-column panels. */
    static int[] lengths(TensorType t, boolean quick) {
        if (quick) {
            // still one row length past the 512-column panel, and one odd length for plain floats
            return t.blockSize() == 1 ? new int[]{3, 515} : new int[]{t.blockSize(), 544 / t.blockSize() * t.blockSize() + t.blockSize()};
        }
        return switch (t.blockSize()) {
            case 1 -> new int[]{1, 3, 17, 67, 515};
            case 32 -> new int[]{32, 96, 544};
            default -> new int[]{256, 768};
        };
    }

    record Case(TensorType type, int rows, int cols, byte[] bytes, double[][] w) {
        static Case random(TensorType type, int rows, int cols, Random rnd) {
            byte[] bytes = RandomWeights.matrix(type.id(), rows, cols, rnd);
            int rb = SpecDecoder.rowBytes(type.id(), cols);
            double[][] w = new double[rows][];
            for (int r = 0; r < rows; r++) {
                w[r] = SpecDecoder.decode(type.id(), Arrays.copyOfRange(bytes, r * rb, (r + 1) * rb), cols);
            }
            return new Case(type, rows, cols, bytes, w);
        }

        /** The weights as a mapped file would give them (off-heap), or as a heap byte[] segment. */
        MemorySegment segment(Arena arena, boolean offHeap) {
            MemorySegment heap = MemorySegment.ofArray(bytes);
            return offHeap ? arena.allocate(bytes.length, 16).copyFrom(heap) : heap;
        }
    }

    /**
     * Gaussian activations of one token at a random power-of-ten scale (10^-3 .. 10^3); with {@code zeroBlocks}, every
     * fifth 32-block (counted from {@code shift}) all zero, as a quantizer must give zero codes and scale.
     */
    static float[] scaledActivations(Random rnd, int cols, boolean zeroBlocks, int shift) {
        double scale = Math.pow(10, rnd.nextInt(7) - 3);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = zeroBlocks && (shift + i / 32) % 5 == 0 ? 0f : (float) (rnd.nextGaussian() * scale);
        }
        return x;
    }

    /** A batch of {@link #scaledActivations} rows, token t's zero blocks (if any) shifted by t. */
    static ActivationBatch scaledBatch(Arena arena, int tokens, int cols, Random rnd, boolean zeroBlocks) {
        ActivationBatch b = ActivationBatch.allocate(arena, tokens, cols);
        for (int t = 0; t < tokens; t++) {
            MemorySegment.copy(scaledActivations(rnd, cols, zeroBlocks, t), 0, b.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT,
                    b.offsetOf(t, 0), cols);
        }
        return b;
    }

    static ActivationBatch randomBatch(Arena arena, int tokens, int dim, Random rnd) {
        ActivationBatch b = ActivationBatch.allocate(arena, tokens, dim);
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < dim; i++) {
                b.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) t * dim + i, (float) rnd.nextGaussian());
            }
        }
        return b;
    }

    /**
     * Asserts that the matmul of {@code in} split at a random multiple of 16 rows into two row ranges writes {@code whole}
     * (the unsplit result) bit for bit.
     */
    static void assertRowRangesEqualWhole(CpuMatrix m, ActivationBatch in, ActivationBatch whole, Arena arena, Random rnd, String ctx) {
        int tokens = whole.tokens(), rows = whole.dim();
        ActivationBatch ranged = ActivationBatch.allocate(arena, tokens, rows);
        int cut = 16 * rnd.nextInt(rows / 16 + 1);
        m.matmul(in, ranged, 0, cut);
        m.matmul(in, ranged, cut, rows);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                Assertions.assertEquals(Float.floatToRawIntBits(whole.get(t, r)), Float.floatToRawIntBits(ranged.get(t, r)),
                        ctx + ", split at " + cut + ", token " + t + " row " + r);
            }
        }
    }

    /** Compares {@code out} with the float64 product; returns failure lines (empty when every element is in bounds). */
    static List<String> compare(Case c, ActivationBatch in, ActivationBatch out, String what) {
        List<String> failures = new ArrayList<>();
        boolean int8 = (c.type() instanceof io.flexq.runtime.tensor.Q8_0Type || c.type() instanceof io.flexq.runtime.tensor.Q4_0Type
                || c.type() instanceof io.flexq.runtime.tensor.Q6_KType) && in.tokens() >= NativeQ8.MIN_TOKENS && NativeQ8.available()
                || in.tokens() == 1 && Int8Gemv.runs(c.type());
        boolean bf16 = c.type() instanceof io.flexq.runtime.tensor.BF16Type && in.tokens() >= NativeBf16.MIN_TOKENS && NativeBf16.available();
        for (int t = 0; t < in.tokens(); t++) {
            for (int r = 0; r < c.rows(); r++) {
                double exact = 0;
                double magnitude = 0;
                for (int i = 0; i < c.cols(); i++) {
                    double p = c.w()[r][i] * in.get(t, i);
                    exact += p;
                    magnitude += Math.abs(p);
                }
                double tol = (c.cols() + 32) * 0x1p-24 * magnitude + c.cols() * 0x1p-140;
                if (int8) {
                    tol += activationRounding(c.w()[r], in, t);
                }
                if (bf16) { // NativeBf16 rounds each activation to bf16: 8 significant bits, within 2^-8 of |x|
                    tol += 0x1p-8 * magnitude;
                }
                double got = out.get(t, r);
                if (!(Math.abs(got - exact) <= tol) && failures.size() < 5) {
                    failures.add(what + " " + c.type().name() + " " + c.rows() + "x" + c.cols() + " token " + t + " row " + r
                            + ": got " + got + ", float64 reference " + exact + ", tolerance " + tol);
                }
            }
        }
        return failures;
    }

    /**
     * Q8_0, Q4_0 and Q6_K prompts with 8-bit activations ({@link NativeQ8}), and one-token Q4_0 and Q6_K steps ({@link Int8Gemv}),
     * round each activation to a multiple of its 32-block's
     * d = amax / 127, within d / 2 (plus the fp32 rounding of x * (1 / d)): the product moves by at most
     * sum_c |w_c| * d(c) * (1/2 + 2^-16).
     */
    static double activationRounding(double[] w, ActivationBatch in, int t) {
        double sum = 0;
        for (int j = 0; j < w.length / 32; j++) {
            float amax = 0;
            double wabs = 0;
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                amax = Math.max(amax, Math.abs(in.get(t, i)));
                wabs += Math.abs(w[i]);
            }
            sum += wabs * (amax / 127f) * (0.5 + 0x1p-16);
        }
        return sum;
    }

    /**
     * Every built-in type, every row length, one token and batches of 6 and 37 (past the 32-token tile), 21 rows
     * (one full 16-row block plus a partial one that is not a multiple of 4).
     */
    public static List<String> run(long seed, ForkJoinPool pool, boolean quick) {
        Random rnd = new Random(seed);
        CpuBackend backend = new CpuBackend(pool);
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                for (int cols : lengths(type, quick)) {
                    Case c = Case.random(type, 21, cols, rnd);
                    CpuMatrix m = backend.load("w", type, c.rows(), cols, c.segment(arena, cols % 2 == 0));
                    for (int tokens : quick ? new int[]{1, 37} : new int[]{1, 6, 37}) {
                        ActivationBatch in = randomBatch(arena, tokens, cols, rnd);
                        ActivationBatch out = ActivationBatch.allocate(arena, tokens, c.rows());
                        m.matmul(in, out);
                        failures.addAll(compare(c, in, out, m.describe() + ", " + tokens + " tokens:"));
                    }
                }
            }
        }
        return failures;
    }

    /** For child JVMs: prints the vector shape, runs the quick {@link #run} on a 3-thread pool, exits 1 on any failure. */
    public static void main(String[] args) {
        long seed = Long.parseLong(args[0]);
        System.out.println("kernels: " + Simd.describe());
        for (TensorType t : BuiltinTypes.all()) {
            System.out.println("  " + t.name() + ": " + RowKernel.of(t, t.blockSize()).kind());
        }
        List<String> failures = run(seed, new ForkJoinPool(3), true);
        failures.forEach(System.out::println);
        System.out.println(failures.isEmpty() ? "OK" : "FAILED (seed " + seed + ")");
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
