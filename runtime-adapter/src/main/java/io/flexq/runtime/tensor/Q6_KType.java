package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * GGUF type 14, Q6_K: super-blocks of 256 elements, 210 bytes each, as ggml lays out {@code block_q6_K}.
 * <pre>
 *   bytes   0..127  ql[128]     low 4 bits of the 6-bit codes
 *   bytes 128..191  qh[64]      high 2 bits, four codes per byte
 *   bytes 192..207  scales[16]  int8 sub-block scales, one per 16 consecutive elements
 *   bytes 208..209  d           fp16 super-block scale
 * </pre>
 * The block is two halves h = 0, 1 of 128 elements. In half h, for l = 0..31 and k = 0..3, element
 * {@code e = 128h + 32k + l} has stored code u (0..63):
 * <pre>
 *   k = 0: ql[64h + l]      &amp; 0xF  | ((qh[32h + l] &gt;&gt; 0) &amp; 3) &lt;&lt; 4
 *   k = 1: ql[64h + 32 + l] &amp; 0xF  | ((qh[32h + l] &gt;&gt; 2) &amp; 3) &lt;&lt; 4
 *   k = 2: ql[64h + l]      &gt;&gt; 4   | ((qh[32h + l] &gt;&gt; 4) &amp; 3) &lt;&lt; 4
 *   k = 3: ql[64h + 32 + l] &gt;&gt; 4   | ((qh[32h + l] &gt;&gt; 6) &amp; 3) &lt;&lt; 4
 *   value = (d * scales[e / 16]) * (u - 32)      (float products in this order, as ggml computes them)
 * </pre>
 * Encoding: each 16-element sub-block gets a least-squares scale from {@link ScaleSearch} (codes -32..31);
 * the sub-scale of largest magnitude sets d = fp16(s_max / -128), each sub-scale is rounded to
 * {@code sc = clamp(rint(s / d), -128, 127)}, and the codes are rounded again against the scale the decoder
 * will use, {@code d * sc}.
 */
public final class Q6_KType implements BuiltinType {

    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 210;
    public static final int QH = 128;
    public static final int SCALES = 192;
    public static final int D = 208;

    Q6_KType() {
    }

    @Override public int id() { return 14; }
    @Override public String name() { return "Q6_K"; }
    @Override public int blockSize() { return BLOCK; }
    @Override public int blockBytes() { return BLOCK_BYTES; }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        for (int b = 0; b < count / BLOCK; b++) {
            long base = byteOffset + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(I16_LE, base + D));
            for (int h = 0; h < 2; h++) {
                int o = dstOffset + b * BLOCK + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int lo = data.get(ValueLayout.JAVA_BYTE, base + 64 * h + l) & 0xFF;
                    int lo2 = data.get(ValueLayout.JAVA_BYTE, base + 64 * h + 32 + l) & 0xFF;
                    int hi = data.get(ValueLayout.JAVA_BYTE, base + QH + 32 * h + l) & 0xFF;
                    int scales = SCALES + 8 * h;
                    dst[o + l] = value(data, base, scales + l / 16, d, (lo & 0xF) | (hi & 3) << 4);
                    dst[o + l + 32] = value(data, base, scales + 2 + l / 16, d, (lo2 & 0xF) | (hi >> 2 & 3) << 4);
                    dst[o + l + 64] = value(data, base, scales + 4 + l / 16, d, (lo >> 4) | (hi >> 4 & 3) << 4);
                    dst[o + l + 96] = value(data, base, scales + 6 + l / 16, d, (lo2 >> 4) | (hi >> 6 & 3) << 4);
                }
            }
        }
    }

    private static float value(MemorySegment data, long base, int scaleByte, float d, int u) {
        float ds = d * data.get(ValueLayout.JAVA_BYTE, base + scaleByte);
        return ds * (u - 32);
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        rowBytes(count);
        float[] sub = new float[16];
        int[] u = new int[BLOCK];
        for (int b = 0; b < count / BLOCK; b++) {
            int s = srcOffset + b * BLOCK;
            for (int i = 0; i < BLOCK; i++) {
                BuiltinType.requireFinite(src[s + i], name(), b * BLOCK + i);
            }
            float smax = 0;
            for (int j = 0; j < 16; j++) {
                sub[j] = ScaleSearch.bestScale(src, s + 16 * j, 16, -32, 31);
                if (Math.abs(sub[j]) > Math.abs(smax)) {
                    smax = sub[j];
                }
            }
            short h = BuiltinType.scaleToF16(smax / -128f, smax / 128.5f, name(), b);
            float d = Float.float16ToFloat(h);
            long base = dstOffset + (long) b * BLOCK_BYTES;
            for (int j = 0; j < 16; j++) {
                int sc = d == 0 ? 0 : ScaleSearch.clampRound(sub[j] / d, -128, 127);
                dst.set(ValueLayout.JAVA_BYTE, base + SCALES + j, (byte) sc);
                float eff = d * sc;
                for (int i = 16 * j; i < 16 * j + 16; i++) {
                    u[i] = (eff == 0 ? 0 : ScaleSearch.clampRound(src[s + i] / eff, -32, 31)) + 32;
                }
            }
            dst.set(I16_LE, base + D, h);
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l++) {
                    int e = 128 * half + l;
                    int u0 = u[e], u1 = u[e + 32], u2 = u[e + 64], u3 = u[e + 96];
                    dst.set(ValueLayout.JAVA_BYTE, base + 64 * half + l, (byte) ((u0 & 0xF) | (u2 & 0xF) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, base + 64 * half + 32 + l, (byte) ((u1 & 0xF) | (u3 & 0xF) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, base + QH + 32 * half + l,
                            (byte) ((u0 >> 4) | (u1 >> 4) << 2 | (u2 >> 4) << 4 | (u3 >> 4) << 6));
                }
            }
        }
    }

    @Override public String toString() { return name(); }
}
