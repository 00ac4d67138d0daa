package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGUF type 1: IEEE binary16 (1 sign, 5 exponent bits with bias 15, 10 mantissa bits), little-endian.
 * Encoding rounds to nearest, ties to even; values past 65504 become infinities, as a cast in C does.
 */
public final class F16Type implements BuiltinType {

    F16Type() {
    }

    @Override public int id() { return 1; }
    @Override public String name() { return "F16"; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 2; }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(data.get(I16_LE, byteOffset + 2L * i));
        }
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < count; i++) {
            dst.set(I16_LE, dstOffset + 2L * i, Float.floatToFloat16(src[srcOffset + i]));
        }
    }

    @Override public String toString() { return name(); }
}
