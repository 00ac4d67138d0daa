package io.flexq.conformance;

import java.util.SplittableRandom;

/**
 * Seeded random matrices shaped like a transformer layer's: Gaussian values with a magnitude per row
 * (weights, 2^-4 .. 2^4) or per token (activations, 2^-3 .. 2^3), and a few outliers (1% of weights x8,
 * 2% of activations x20) so groups and blocks have uneven ranges. With 3 or more tokens the last token is all
 * zeros: its outputs must be exactly 0 on every backend (an FQ6 group of zeros has scale 0).
 */
public final class RandomInputs {

    private RandomInputs() {
    }

    public static float[] weights(SplittableRandom rnd, int rows, int cols) {
        float[] w = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            double scale = Math.scalb(1.0, rnd.nextInt(-4, 5));
            for (int c = 0; c < cols; c++) {
                double v = rnd.nextGaussian() * scale;
                w[r * cols + c] = (float) (rnd.nextInt(100) == 0 ? 8 * v : v);
            }
        }
        return w;
    }

    public static float[] activations(SplittableRandom rnd, int tokens, int cols) {
        float[] x = new float[Math.multiplyExact(tokens, cols)];
        int live = tokens >= 3 ? tokens - 1 : tokens;
        for (int t = 0; t < live; t++) {
            double scale = Math.scalb(1.0, rnd.nextInt(-3, 4));
            for (int c = 0; c < cols; c++) {
                double v = rnd.nextGaussian() * scale;
                x[t * cols + c] = (float) (rnd.nextInt(50) == 0 ? 20 * v : v);
            }
        }
        return x;
    }
}
