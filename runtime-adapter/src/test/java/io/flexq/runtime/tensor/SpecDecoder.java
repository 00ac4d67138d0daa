package io.flexq.runtime.tensor;

/**
 * Test-only decoders written from the GGUF / ggml format descriptions, in float64, deliberately in another
 * style than the production code (element-index formulas, no shared helpers, no JDK fp16 conversion), so a
 * production bug is not mirrored here. Input is raw little-endian bytes of one row.
 */
public final class SpecDecoder {

    private SpecDecoder() {
    }

    public static int u8(byte[] b, int i) {
        return b[i] & 0xFF;
    }

    public static int u16(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    /** IEEE binary16 from its fields: sign, 5-bit exponent (bias 15), 10-bit fraction. */
    public static double half(int bits) {
        int sign = bits >> 15 & 1;
        int exp = bits >> 10 & 0x1F;
        int frac = bits & 0x3FF;
        double mag;
        if (exp == 0) {
            mag = frac * Math.pow(2, -24);
        } else if (exp == 31) {
            mag = frac == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            mag = (1024 + frac) * Math.pow(2, exp - 25);
        }
        return sign == 1 ? -mag : mag;
    }

    /** bfloat16 from its fields: sign, 8-bit exponent (bias 127), 7-bit fraction. */
    public static double bf16(int bits) {
        int sign = bits >> 15 & 1;
        int exp = bits >> 7 & 0xFF;
        int frac = bits & 0x7F;
        double mag;
        if (exp == 0) {
            mag = frac * Math.pow(2, -133);
        } else if (exp == 255) {
            mag = frac == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            mag = (128 + frac) * Math.pow(2, exp - 134);
        }
        return sign == 1 ? -mag : mag;
    }

    public static double[] f32(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int i = 0; i < cols; i++) {
            int bits = u16(row, 4 * i) | u16(row, 4 * i + 2) << 16;
            y[i] = Float.intBitsToFloat(bits);
        }
        return y;
    }

    public static double[] f16(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int i = 0; i < cols; i++) {
            y[i] = half(u16(row, 2 * i));
        }
        return y;
    }

    public static double[] bf16(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int i = 0; i < cols; i++) {
            y[i] = bf16(u16(row, 2 * i));
        }
        return y;
    }

    /** Q8_0: per 32 elements 34 bytes: fp16 d, then 32 signed bytes; x = q * d. */
    public static double[] q8_0(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int e = 0; e < cols; e++) {
            int block = e / 32;
            double d = half(u16(row, 34 * block));
            y[e] = row[34 * block + 2 + e % 32] * d;
        }
        return y;
    }

    /** Q4_0: per 32 elements 18 bytes: fp16 d, then 16 bytes; element j &lt; 16 is the low nibble of byte j, element j &gt;= 16 the high nibble of byte j - 16; x = (nibble - 8) * d. */
    public static double[] q4_0(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int e = 0; e < cols; e++) {
            int block = e / 32;
            int j = e % 32;
            double d = half(u16(row, 18 * block));
            int b = u8(row, 18 * block + 2 + j % 16);
            int nibble = j < 16 ? b % 16 : b / 16;
            y[e] = (nibble - 8) * d;
        }
        return y;
    }

    /**
     * Q6_K: per 256 elements 210 bytes: ql[128] @0, qh[64] @128, int8 scales[16] @192, fp16 d @208.
     * Element e of a super-block: half h = e / 128, r = e % 128, k = r / 32, l = r % 32;
     * low 4 bits = nibble (k / 2 == 0 ? low : high) of ql[64h + 32 (k % 2) + l];
     * high 2 bits = bits 2k, 2k+1 of qh[32h + l]; x = d * scales[e / 16] * (code - 32).
     */
    public static double[] q6_K(byte[] row, int cols) {
        double[] y = new double[cols];
        for (int idx = 0; idx < cols; idx++) {
            int base = 210 * (idx / 256);
            int e = idx % 256;
            int h = e / 128;
            int r = e % 128;
            int k = r / 32;
            int l = r % 32;
            int qlByte = u8(row, base + 64 * h + 32 * (k % 2) + l);
            int low = k / 2 == 0 ? qlByte % 16 : qlByte / 16;
            int high = (u8(row, base + 128 + 32 * h + l) / (1 << (2 * k))) % 4;
            int code = low + 16 * high;
            double d = half(u16(row, base + 208));
            int scale = row[base + 192 + e / 16];
            y[idx] = d * scale * (code - 32);
        }
        return y;
    }

    /** Decodes row by type id: 0 F32, 1 F16, 2 Q4_0, 8 Q8_0, 14 Q6_K, 30 BF16. */
    public static double[] decode(int typeId, byte[] row, int cols) {
        return switch (typeId) {
            case 0 -> f32(row, cols);
            case 1 -> f16(row, cols);
            case 2 -> q4_0(row, cols);
            case 8 -> q8_0(row, cols);
            case 14 -> q6_K(row, cols);
            case 30 -> bf16(row, cols);
            default -> throw new IllegalArgumentException("no spec decoder for type " + typeId);
        };
    }

    /** Bytes per row by the published block sizes (independent of the production rowBytes). */
    public static int rowBytes(int typeId, int cols) {
        return switch (typeId) {
            case 0 -> 4 * cols;
            case 1, 30 -> 2 * cols;
            case 2 -> cols / 32 * 18;
            case 8 -> cols / 32 * 34;
            case 14 -> cols / 256 * 210;
            default -> throw new IllegalArgumentException("type " + typeId);
        };
    }
}
