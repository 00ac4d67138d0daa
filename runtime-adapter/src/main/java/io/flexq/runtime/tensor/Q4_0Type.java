package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGUF type 2, Q4_0: blocks of 32 elements, 18 bytes each.
 * <pre>
 *   bytes 0..1   d       fp16 scale
 *   bytes 2..17  qs[16]  element j      = ((qs[j] &amp; 0xF) - 8) * d     (j = 0..15, low nibbles)
 *                        element j + 16 = ((qs[j] &gt;&gt; 4)  - 8) * d     (high nibbles)
 * </pre>
 * Encoding uses the asymmetric code range [-8, 7] fully: with m the element of largest magnitude (signed),
 * d = fp16(m / -8) (kept at least |m| / 8.5 in magnitude) so m lands on code -8; q = clamp(rint(x / d), -8, 7). Error is at most |d| / 2, except
 * for elements of the other sign beyond 7.5 steps, which clamp to 7 (error at most |d|).
 */
public final class Q4_0Type implements BuiltinType {

    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;

    Q4_0Type() {
    }

    @Override public int id() { return 2; }
    @Override public String name() { return "Q4_0"; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        for (int b = 0; b < count / BLOCK; b++) {
            long base = byteOffset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(I16_LE, base));
            int o = dstOffset + b * BLOCK;
            for (int j = 0; j < 16; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, base + 2 + j) & 0xFF;
                dst[o + j] = ((q & 0xF) - 8) * d;
                dst[o + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        rowBytes(count);
        for (int b = 0; b < count / BLOCK; b++) {
            int s = srcOffset + b * BLOCK;
            float m = 0;
            for (int j = 0; j < BLOCK; j++) {
                BuiltinType.requireFinite(src[s + j], name(), b * BLOCK + j);
                if (Math.abs(src[s + j]) > Math.abs(m)) {
                    m = src[s + j];
                }
            }
            short h = BuiltinType.scaleToF16(m / -8f, m / 8.5f, name(), b);
            float d = Float.float16ToFloat(h);
            long base = dstOffset + (long) b * BLOCK_BYTES;
            dst.set(I16_LE, base, h);
            for (int j = 0; j < 16; j++) {
                int lo = code(src[s + j], d);
                int hi = code(src[s + j + 16], d);
                dst.set(ValueLayout.JAVA_BYTE, base + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    /** The stored nibble q + 8 in 0..15. */
    private static int code(float x, float d) {
        int q = d == 0 ? 0 : (int) Math.max(-8, Math.min(7, Math.rint(x / d)));
        return q + 8;
    }

    @Override public String toString() { return name(); }
}
