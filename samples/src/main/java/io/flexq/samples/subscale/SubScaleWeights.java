package io.flexq.samples.subscale;

/**
 * A weight matrix quantized in a {@link SubScaleLayout}: row-major codes {@code q[r * cols + k]} in [-32, 31], fp16
 * scales {@code S[r * groups + g]}, sub-scales {@code s[r * chunks + j]} (the value itself, 1 for a layout without
 * sub-scales). Dequantized weight: {@code fp32(fp32(S) * s) * q}, exact in fp32 (an fp16 significand times an integer
 * below 2^6 times another below 2^6 fits 24 bits).
 */
public record SubScaleWeights(SubScaleLayout layout, int rows, int cols, byte[] codes, short[] scales, byte[] subs) {

    public int groups() {
        return cols / layout.group();
    }

    public int chunks() {
        return cols / layout.chunk();
    }

    /** The fp32 step {@code S * s_j} of column {@code k} of row {@code r} (exact). */
    public float step(int r, int k) {
        float sw = Float.float16ToFloat(scales[r * groups() + k / layout.group()]);
        return sw * subs[r * chunks() + k / layout.chunk()];
    }

    public float[] dequantize() {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                w[r * cols + k] = step(r, k) * codes[r * cols + k];
            }
        }
        return w;
    }
}
