package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code dequantizeRow} of every built-in type agrees with the float64 spec decoder on random stored rows. */
class DequantizeRowTest {

    static final long SEED = 0x5EED_0001L;

    static int[] lengths(TensorType t) {
        return t.blockSize() == 1 ? new int[]{1, 7, 33, 515} : new int[]{t.blockSize(), 3 * t.blockSize(), 17 * t.blockSize()};
    }

    @Test
    void everyTypeDecodesEveryRowLikeTheSpec() {
        Random rnd = new Random(SEED);
        for (TensorType t : BuiltinTypes.all()) {
            for (int cols : lengths(t)) {
                int rows = 3;
                byte[] bytes = RandomWeights.matrix(t.id(), rows, cols, rnd);
                int rowBytes = SpecDecoder.rowBytes(t.id(), cols);
                float[] got = new float[cols + 2];
                for (int r = 0; r < rows; r++) {
                    Arrays.fill(got, Float.NaN);
                    t.dequantizeRow(MemorySegment.ofArray(bytes), r, cols, got, 1);
                    double[] want = SpecDecoder.decode(t.id(), Arrays.copyOfRange(bytes, r * rowBytes, (r + 1) * rowBytes), cols);
                    for (int i = 0; i < cols; i++) {
                        // Q6_K rounds (d * sc) * q once in fp32: half an ulp; all others are exact in fp32
                        double tol = t == QuantTypes.Q6_K ? Math.abs(want[i]) * 0x1p-24 : 0;
                        if (!(Math.abs(got[i + 1] - want[i]) <= tol)) {
                            fail(t.name() + " cols " + cols + " row " + r + " element " + i + ": got " + got[i + 1]
                                    + ", spec " + want[i] + " (seed " + SEED + ")");
                        }
                    }
                    assertTrue(Float.isNaN(got[0]) && Float.isNaN(got[cols + 1]), "wrote outside its range");
                }
            }
        }
    }

    @Test
    void allHalfAndBfloatBitPatternsDecodeExactly() {
        for (TensorType t : List.of(FloatTypes.F16, FloatTypes.BF16)) {
            byte[] bytes = new byte[2 * 65536];
            for (int h = 0; h < 65536; h++) {
                RandomWeights.put16(bytes, 2 * h, h);
            }
            float[] got = new float[65536];
            t.dequantizeRow(MemorySegment.ofArray(bytes), 0, 65536, got, 0);
            for (int h = 0; h < 65536; h++) {
                double want = t == FloatTypes.F16 ? SpecDecoder.half(h) : SpecDecoder.bf16(h);
                if (Double.isNaN(want)) {
                    assertTrue(Float.isNaN(got[h]), t.name() + " " + Integer.toHexString(h));
                } else {
                    assertEquals(want, got[h], 0.0, t.name() + " " + Integer.toHexString(h));
                    assertEquals(h >> 15 == 1, (Float.floatToRawIntBits(got[h]) >>> 31) == 1, "sign of " + Integer.toHexString(h));
                }
            }
        }
    }
}
