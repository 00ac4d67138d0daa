package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A type the runtime does not know (as a plugin would register it), with a planar layout that is not row
 * after row: the CPU backend multiplies it through {@link TensorType#dequantizeRow}.
 */
class PluginTypeTest {

    static final long SEED = 0x5EED_0004L;
    /** Three workers even on a 2-core machine, so matmuls take the parallel path. */
    static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Toy type 4000: [rows * cols int8 codes][rows fp32 scales]; W[r][c] = code[r][c] * scale[r]. */
    static final class PlanarInt8 implements TensorType {
        private final long rows;

        PlanarInt8(long rows) {
            this.rows = rows;
        }

        @Override public int id() { return 4000; }
        @Override public String name() { return "TOY_PLANAR_I8"; }
        @Override public int blockSize() { return 1; }
        @Override public long rowBytes(long cols) { return cols + 4; }
        @Override public long byteSize(long cols, long r) { return Math.multiplyExact(r, cols + 4); }

        @Override
        public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
            float scale = data.get(F32_LE, rows * cols + 4 * row);
            for (int c = 0; c < cols; c++) {
                dst[dstOffset + c] = data.get(ValueLayout.JAVA_BYTE, row * cols + c) * scale;
            }
        }
    }

    @Test
    void aPluginTypeIsSupportedAndMultipliedThroughDequantizeRow() {
        Random rnd = new Random(SEED);
        int rows = 45, cols = 300;
        byte[] bytes = new byte[rows * cols + 4 * rows];
        rnd.nextBytes(bytes);
        MemorySegment seg = MemorySegment.ofArray(bytes);
        double[] scale = new double[rows];
        for (int r = 0; r < rows; r++) {
            scale[r] = 0.01 * (1 + rnd.nextInt(100));
            seg.set(F32_LE, (long) rows * cols + 4L * r, (float) scale[r]);
        }
        TensorType toy = new PlanarInt8(rows);
        CpuBackend cpu = new CpuBackend(POOL);
        assertTrue(cpu.supports(toy, rows, cols));
        CpuMatrix m = cpu.load("plugin.weight", toy, rows, cols, seg);
        assertTrue(m.describe().contains("dequantizeRow"), m.describe());
        try (Arena arena = Arena.ofConfined()) {
            for (int tokens : new int[]{1, 7}) {
                ActivationBatch in = KernelCheck.randomBatch(arena, tokens, cols, rnd);
                ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(in, out);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double exact = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            // the type stores the fp32 scale; use it as stored
                            double w = bytes[r * cols + c] * (double) (float) scale[r];
                            exact += w * in.get(t, c);
                            mag += Math.abs(w * in.get(t, c));
                        }
                        double tol = (cols + 32) * 0x1p-24 * mag;
                        if (!(Math.abs(out.get(t, r) - exact) <= tol)) {
                            fail("token " + t + " row " + r + ": " + out.get(t, r) + " vs " + exact + " (seed " + SEED + ")");
                        }
                    }
                }
            }
        }
    }
}
