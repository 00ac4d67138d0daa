package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The plain float storage types: F32 (GGUF id 0), F16 (id 1), BF16 (id 30). */
public final class FloatTypes {

    private FloatTypes() {
    }

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    public static final TensorType F32 = new TensorType() {
        public int id() { return 0; }
        public String name() { return "F32"; }
        public int blockSize() { return 1; }
        public long rowBytes(long cols) { return Math.multiplyExact(cols, 4L); }
        public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
            MemorySegment.copy(data, F32_LE, row * cols * 4L, dst, dstOffset, cols);
        }
        public String toString() { return name(); }
    };

    public static final TensorType F16 = new TensorType() {
        public int id() { return 1; }
        public String name() { return "F16"; }
        public int blockSize() { return 1; }
        public long rowBytes(long cols) { return Math.multiplyExact(cols, 2L); }
        public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
            long base = row * cols * 2L;
            for (int i = 0; i < cols; i++) {
                dst[dstOffset + i] = Float.float16ToFloat(data.get(I16_LE, base + 2L * i));
            }
        }
        public String toString() { return name(); }
    };
}
