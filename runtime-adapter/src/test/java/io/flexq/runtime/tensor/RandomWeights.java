package io.flexq.runtime.tensor;

import java.util.Random;

/**
 * Random stored rows in each built-in format, made byte by byte from the format description (not with the
 * production quantizers): every code value occurs, scales are finite fp16 of both signs and varied magnitude.
 */
public final class RandomWeights {

    private RandomWeights() {
    }

    static void put16(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >> 8);
    }

    /** A finite fp16 bit pattern of magnitude about 2^(lo..hi), random sign. */
    public static int randomHalf(Random rnd, int loExp, int hiExp) {
        int exp = loExp + rnd.nextInt(hiExp - loExp + 1) + 15;
        return (rnd.nextBoolean() ? 0x8000 : 0) | exp << 10 | rnd.nextInt(1024);
    }

    /** {@code rows} rows of type {@code typeId}, {@code cols} elements each, GGUF layout. */
    public static byte[] matrix(int typeId, int rows, int cols, Random rnd) {
        int rowBytes = SpecDecoder.rowBytes(typeId, cols);
        byte[] b = new byte[rows * rowBytes];
        rnd.nextBytes(b);
        for (int r = 0; r < rows; r++) {
            int o = r * rowBytes;
            switch (typeId) {
                case 0 -> {
                    for (int i = 0; i < cols; i++) {
                        int bits = Float.floatToRawIntBits((float) rnd.nextGaussian());
                        put16(b, o + 4 * i, bits);
                        put16(b, o + 4 * i + 2, bits >>> 16);
                    }
                }
                case 1 -> {
                    for (int i = 0; i < cols; i++) {
                        // mostly normal halves of magnitude 2^-8..2^3, some subnormals (exponent field 0)
                        int h = rnd.nextInt(10) == 0 ? (rnd.nextInt(2) << 15 | rnd.nextInt(1024)) : randomHalf(rnd, -8, 3);
                        put16(b, o + 2 * i, h);
                    }
                }
                case 30 -> {
                    for (int i = 0; i < cols; i++) {
                        int exp = 127 - 10 + rnd.nextInt(14);
                        int h = rnd.nextInt(20) == 0 ? (rnd.nextInt(2) << 15 | rnd.nextInt(128)) : (rnd.nextInt(2) << 15 | exp << 7 | rnd.nextInt(128));
                        put16(b, o + 2 * i, h);
                    }
                }
                case 8 -> {
                    for (int blk = 0; blk < cols / 32; blk++) {
                        put16(b, o + 34 * blk, randomHalf(rnd, -10, -3));
                    }
                }
                case 2 -> {
                    for (int blk = 0; blk < cols / 32; blk++) {
                        put16(b, o + 18 * blk, randomHalf(rnd, -8, -2));
                    }
                }
                case 14 -> {
                    for (int blk = 0; blk < cols / 256; blk++) {
                        put16(b, o + 210 * blk + 208, randomHalf(rnd, -14, -10));
                    }
                }
                default -> throw new IllegalArgumentException("type " + typeId);
            }
        }
        return b;
    }
}
