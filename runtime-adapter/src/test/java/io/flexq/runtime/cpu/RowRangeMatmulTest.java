package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WeightMatrix#matmul(ActivationBatch, ActivationBatch, int, int)}: the rows asked for equal the
 * float64 product, rows outside the range are untouched, and ranges that start on a row block give the
 * same bits as the whole-matrix call. Both the CPU override and the SPI's default method are checked.
 */
class RowRangeMatmulTest {

    static final long SEED = 0x5EED_0913L;
    static final ForkJoinPool POOL = new ForkJoinPool(2);
    /** Outside the range, out keeps this value. */
    static final float SENTINEL = -12345.5f;

    /** A matrix that only has the SPI's default row-range method (delegating the whole product). */
    record DefaultOnly(WeightMatrix inner) implements WeightMatrix {
        @Override public String name() { return inner.name(); }
        @Override public int rows() { return inner.rows(); }
        @Override public int cols() { return inner.cols(); }
        @Override public void matmul(ActivationBatch in, ActivationBatch out) { inner.matmul(in, out); }
        @Override public String describe() { return "default row range over " + inner.describe(); }
    }

    @Test
    void rowRangesOfEveryTypeMatchTheFloat64ReferenceAndLeaveOtherRowsAlone() {
        Random rnd = new Random(SEED);
        CpuBackend backend = new CpuBackend(POOL);
        List<String> failures = new ArrayList<>();
        int rows = 45;
        int[][] ranges = {{0, 45}, {0, 16}, {16, 32}, {3, 4}, {5, 29}, {44, 45}, {7, 7}};
        try (Arena arena = Arena.ofConfined()) {
            for (TensorType type : BuiltinTypes.all()) {
                int cols = KernelCheck.lengths(type, true)[0] * (type.blockSize() == 1 ? 67 : 2);
                KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                CpuMatrix m = backend.load("w", type, rows, cols, c.segment(arena, true));
                for (WeightMatrix w : List.of(m, new DefaultOnly(m))) {
                    for (int tokens : new int[]{1, 6, 37}) {
                        ActivationBatch in = KernelCheck.randomBatch(arena, tokens, cols, rnd);
                        ActivationBatch whole = ActivationBatch.allocate(arena, tokens, rows);
                        m.matmul(in, whole);
                        for (int[] range : ranges) {
                            ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                            out.data().fill((byte) 0);
                            for (int t = 0; t < tokens; t++) {
                                for (int r = 0; r < rows; r++) {
                                    out.set(t, r, SENTINEL);
                                }
                            }
                            w.matmul(in, out, range[0], range[1]);
                            String what = w.describe() + ", " + tokens + " tokens, rows [" + range[0] + ", " + range[1] + ")";
                            for (int t = 0; t < tokens; t++) {
                                for (int r = 0; r < rows; r++) {
                                    boolean inside = r >= range[0] && r < range[1];
                                    float got = out.get(t, r);
                                    if (!inside && got != SENTINEL) {
                                        failures.add(what + ": row " + r + " outside the range was written (" + got + ")");
                                    }
                                    boolean aligned = range[0] % CpuMatrix.ROW_BLOCK == 0;
                                    if (inside && aligned && Float.floatToRawIntBits(got) != Float.floatToRawIntBits(whole.get(t, r))) {
                                        failures.add(what + ": token " + t + " row " + r + " is " + got + ", whole product " + whole.get(t, r));
                                    }
                                }
                            }
                            failures.addAll(compareRange(c, in, out, range[0], range[1], what));
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures.subList(0, Math.min(10, failures.size())))
                + "\n(seed " + SEED + ", " + Simd.describe() + ")");
    }

    @Test
    void aRangeOutsideTheMatrixIsRefusedNamingIt() {
        CpuBackend backend = new CpuBackend(POOL);
        Random rnd = new Random(SEED);
        try (Arena arena = Arena.ofConfined()) {
            TensorType f32 = BuiltinTypes.all().getFirst();
            KernelCheck.Case c = KernelCheck.Case.random(f32, 8, 16, rnd);
            CpuMatrix m = backend.load("blk.0.attn_q.weight", f32, 8, 16, c.segment(arena, true));
            ActivationBatch in = ActivationBatch.allocate(arena, 1, 16);
            ActivationBatch out = ActivationBatch.allocate(arena, 1, 8);
            var e = assertThrows(IndexOutOfBoundsException.class, () -> m.matmul(in, out, 4, 9));
            assertEquals("blk.0.attn_q.weight: row range [4, 9) outside [0, 8)", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> new DefaultOnly(m).matmul(in, out, 5, 4));
        }
    }

    private static List<String> compareRange(KernelCheck.Case c, ActivationBatch in, ActivationBatch out, int from, int to, String what) {
        List<String> failures = new ArrayList<>();
        // Q8_0 and Q4_0 prompts with 8-bit activations (NativeQ8), and one-token Q4_0 / Q6_K steps (Int8Gemv), add the activation rounding
        boolean int8 = (c.type() instanceof io.flexq.runtime.tensor.Q8_0Type || c.type() instanceof io.flexq.runtime.tensor.Q4_0Type
                || c.type() instanceof io.flexq.runtime.tensor.Q6_KType) && in.tokens() >= NativeQ8.MIN_TOKENS && NativeQ8.available()
                || in.tokens() == 1 && Int8Gemv.runs(c.type());
        // BF16 prompts with bf16 activations (NativeBf16) add their rounding, 2^-8 of each |x|
        boolean bf16 = c.type() instanceof io.flexq.runtime.tensor.BF16Type && in.tokens() >= NativeBf16.MIN_TOKENS && NativeBf16.available();
        for (int t = 0; t < in.tokens(); t++) {
            for (int r = from; r < to; r++) {
                double exact = 0, magnitude = 0;
                for (int i = 0; i < c.cols(); i++) {
                    double p = c.w()[r][i] * in.get(t, i);
                    exact += p;
                    magnitude += Math.abs(p);
                }
                double tol = (c.cols() + 32) * 0x1p-24 * magnitude + c.cols() * 0x1p-140;
                if (int8) {
                    tol += KernelCheck.activationRounding(c.w()[r], in, t);
                }
                if (bf16) {
                    tol += 0x1p-8 * magnitude;
                }
                if (!(Math.abs(out.get(t, r) - exact) <= tol)) {
                    failures.add(what + ": token " + t + " row " + r + " got " + out.get(t, r) + ", float64 " + exact);
                }
            }
        }
        return failures;
    }
}
