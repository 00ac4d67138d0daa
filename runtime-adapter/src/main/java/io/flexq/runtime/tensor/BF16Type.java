package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;

/**
 * GGUF type 30: bfloat16, the upper 16 bits of an IEEE binary32 (1 sign, 8 exponent, 7 mantissa bits),
 * little-endian. Decoding is exact: {@code float = intBitsToFloat(bits << 16)}.
 */
public final class BF16Type implements BuiltinType {

    BF16Type() {
    }

    @Override public int id() { return 30; }
    @Override public String name() { return "BF16"; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 2; }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /**
     * Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then truncate. A carry out of the
     * mantissa correctly bumps the exponent (up to infinity). NaN stays NaN (quiet bit set, sign kept) instead
     * of being rounded into an infinity.
     */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = toFloat(data.get(I16_LE, byteOffset + 2L * i));
        }
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < count; i++) {
            dst.set(I16_LE, dstOffset + 2L * i, fromFloat(src[srcOffset + i]));
        }
    }

    @Override public String toString() { return name(); }
}
