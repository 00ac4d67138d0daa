package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGUF type 8, Q8_0: blocks of 32 elements, 34 bytes each.
 * <pre>
 *   bytes 0..1   d      fp16 scale
 *   bytes 2..33  q[32]  int8 codes;  element j = q[j] * d
 * </pre>
 * Encoding: d = fp16(absmax / 127), kept at least absmax / 127.5 (see {@link BuiltinType#scaleToF16});
 * q = clamp(rint(x / d), -127, 127) with that fp16 d, so every element is reconstructed within d / 2: the
 * largest element lands at most half a step past 127 before the clamp.
 */
public final class Q8_0Type implements BuiltinType {

    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;

    Q8_0Type() {
    }

    @Override public int id() { return 8; }
    @Override public String name() { return "Q8_0"; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        for (int b = 0; b < count / BLOCK; b++) {
            long base = byteOffset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(I16_LE, base));
            int o = dstOffset + b * BLOCK;
            for (int j = 0; j < BLOCK; j++) {
                dst[o + j] = data.get(ValueLayout.JAVA_BYTE, base + 2 + j) * d;
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        rowBytes(count);
        for (int b = 0; b < count / BLOCK; b++) {
            int s = srcOffset + b * BLOCK;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                BuiltinType.requireFinite(src[s + j], name(), b * BLOCK + j);
                amax = Math.max(amax, Math.abs(src[s + j]));
            }
            short h = BuiltinType.scaleToF16(amax / 127f, amax / 127.5f, name(), b);
            float d = Float.float16ToFloat(h);
            long base = dstOffset + (long) b * BLOCK_BYTES;
            dst.set(I16_LE, base, h);
            for (int j = 0; j < BLOCK; j++) {
                int q = d == 0 ? 0 : (int) Math.max(-127, Math.min(127, Math.rint(src[s + j] / d)));
                dst.set(ValueLayout.JAVA_BYTE, base + 2 + j, (byte) q);
            }
        }
    }

    @Override public String toString() { return name(); }
}
