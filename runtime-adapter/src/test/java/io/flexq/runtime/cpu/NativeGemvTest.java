package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The native one-token loops against the Vector API kernels they replace (bit for bit: same order of operations)
 * and against a float64 dot product (within the fp32 bound), on random ragged shapes.
 */
class NativeGemvTest {

    @Test
    void everyNativeLoopEqualsItsVectorKernelBitForBit() {
        long seed = 1306L;
        Random rnd = new Random(seed);
        TensorType[] types = {FloatTypes.F16, QuantTypes.Q8_0, FloatTypes.BF16, QuantTypes.Q4_0, QuantTypes.Q6_K};
        for (TensorType type : types) {
            for (int trial = 0; trial < 12; trial++) {
                int block = type.blockSize();
                int cols = block > 1 ? block * (1 + rnd.nextInt(block >= 256 ? 4 : 20)) : 1 + rnd.nextInt(700);
                int rows = 1 + rnd.nextInt(37);
                RowKernel kernel = RowKernel.of(type, cols);
                MethodHandle h = NativeGemv.forKernel(kernel).orElse(null);
                Assumptions.assumeTrue(h != null, "no native loop for " + kernel.kind() + " on " + Simd.describe());
                long rowBytes = type.rowBytes(cols);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment w = arena.allocate(rowBytes * rows);
                    for (long i = 0; i < w.byteSize(); i += 2) {
                        // finite halves (exponent below 31) as F16 weights and block scales, finite bfloat16s (exponent below 160);
                        // random codes and Q6_K sub-block scales
                        short half = (short) ((rnd.nextInt(2) << 15) | (rnd.nextInt(20) << 10) | rnd.nextInt(1024));
                        w.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, half);
                    }
                    MemorySegment x = arena.allocate(4L * cols);
                    for (int i = 0; i < cols; i++) {
                        x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
                    }
                    MemorySegment y = arena.allocate(4L * rows);
                    int r0 = rnd.nextInt(rows);
                    NativeGemv.gemv(h, w, rowBytes, cols, r0, rows, x, y);
                    float[] scratch = new float[Math.max(cols, kernel.scratchFloats())];
                    float[] wr = new float[cols];
                    for (int r = 0; r < rows; r++) {
                        String ctx = "seed " + seed + ", " + type.name() + " " + rows + "x" + cols + ", row " + r;
                        float got = y.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                        if (r < r0) {
                            assertEquals(0f, got, ctx + ": written outside [" + r0 + ", " + rows + ")");
                            continue;
                        }
                        float want = kernel.dot(w, r, x, 0, scratch);
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), ctx);
                        kernel.decode(w, r, 0, cols, wr, 0);
                        double exact = 0, mag = 0;
                        for (int i = 0; i < cols; i++) {
                            double p = (double) wr[i] * x.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                            exact += p;
                            mag += Math.abs(p);
                        }
                        assertEquals(exact, got, 1e-5 * mag + 1e-30, ctx + " vs float64");
                    }
                }
            }
        }
    }
}
