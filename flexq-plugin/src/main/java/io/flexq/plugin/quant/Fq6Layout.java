package io.flexq.plugin.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The FQ6 tensor byte layout (docs/FQ6.md, section 7). For {@code R} rows of {@code K} columns and
 * {@code groups = ceil(K / 128)}:
 *
 * <pre>
 *   [codes:  R * groups * 96 bytes][scales: R * groups * 2 bytes, fp16 little-endian]
 *   codes of (r, g) at  (r * groups + g) * 96
 *   scale of (r, g) at  R * groups * 96 + (r * groups + g) * 2
 *   within a group, for j = 0..31, the 24-bit little-endian word at bytes 3j..3j+2 is
 *     (c[4j] & 63) | (c[4j+1] & 63) << 6 | (c[4j+2] & 63) << 12 | (c[4j+3] & 63) << 18
 * </pre>
 */
public final class Fq6Layout {

    private Fq6Layout() {
    }

    /** GGUF type id value of FQ6: private, above upstream's range, so other readers refuse it. */
    public static final int TYPE_ID = 1030;
    public static final String TYPE_NAME = "FQ6";
    /** Group size along K. */
    public static final int GROUP = 128;
    /** Packed bytes of one group's 128 six-bit codes. */
    public static final int GROUP_CODE_BYTES = 96;
    /** Bytes of one fp16 scale. */
    public static final int SCALE_BYTES = 2;
    /** Weight codes lie in [CODE_MIN, CODE_MAX]. */
    public static final int CODE_MIN = -32;
    public static final int CODE_MAX = 31;

    static final ValueLayout.OfShort FP16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@code ceil(cols / 128)}. */
    public static int groups(long cols) {
        if (cols <= 0) {
            throw new IllegalArgumentException("FQ6 needs cols > 0, got " + cols);
        }
        return Math.toIntExact((cols + GROUP - 1) / GROUP);
    }

    /** Size of the codes plane, also the byte offset of the scales plane. */
    public static long codesBytes(long rows, long cols) {
        return Math.multiplyExact(Math.multiplyExact(rows, groups(cols)), (long) GROUP_CODE_BYTES);
    }

    /** Whole tensor: {@code rows * groups * 98}. */
    public static long byteSize(long rows, long cols) {
        return Math.multiplyExact(Math.multiplyExact(rows, groups(cols)), (long) (GROUP_CODE_BYTES + SCALE_BYTES));
    }

    public static long codeOffset(long rows, long cols, long row, int group) {
        return ((row * groups(cols)) + group) * GROUP_CODE_BYTES;
    }

    public static long scaleOffset(long rows, long cols, long row, int group) {
        return codesBytes(rows, cols) + ((row * groups(cols)) + group) * SCALE_BYTES;
    }

    /** Packs 128 codes {@code src[srcOff ..]} (each in [-32, 31]) into 96 bytes at {@code dst[dstOff ..]}. */
    public static void packGroup(byte[] src, int srcOff, byte[] dst, int dstOff) {
        for (int j = 0; j < 32; j++) {
            int s = srcOff + 4 * j;
            int word = (src[s] & 63) | (src[s + 1] & 63) << 6 | (src[s + 2] & 63) << 12 | (src[s + 3] & 63) << 18;
            int d = dstOff + 3 * j;
            dst[d] = (byte) word;
            dst[d + 1] = (byte) (word >>> 8);
            dst[d + 2] = (byte) (word >>> 16);
        }
    }

    /** Unpacks 96 bytes at {@code src[srcOff ..]} into 128 sign-extended codes at {@code dst[dstOff ..]}. */
    public static void unpackGroup(byte[] src, int srcOff, byte[] dst, int dstOff) {
        for (int j = 0; j < 32; j++) {
            int s = srcOff + 3 * j;
            int word = (src[s] & 255) | (src[s + 1] & 255) << 8 | (src[s + 2] & 255) << 16;
            int d = dstOff + 4 * j;
            dst[d] = (byte) ((word << 26) >> 26);
            dst[d + 1] = (byte) ((word << 20) >> 26);
            dst[d + 2] = (byte) ((word << 14) >> 26);
            dst[d + 3] = (byte) ((word << 8) >> 26);
        }
    }

    /** The fp16 bits at {@code offset} of an FQ6 tensor. */
    static short readFp16(MemorySegment data, long offset) {
        return data.get(FP16_LE, offset);
    }

    static void writeFp16(MemorySegment data, long offset, short bits) {
        data.set(FP16_LE, offset, bits);
    }
}
