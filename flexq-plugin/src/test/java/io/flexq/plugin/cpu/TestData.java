package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.WeightQuantizer;

import java.util.Random;

/** Random weights and activations with LLM-like spreads, for the cpu tests. */
final class TestData {

    private TestData() {
    }

    /** Gaussian weights, sigma 0.02, a few outliers, quantized with the default clipping search. */
    static FlexqWeights weights(Random rnd, int rows, int cols) {
        return WeightQuantizer.clipping().quantize("w", floatWeights(rnd, rows, cols), rows, cols).weights();
    }

    static float[] floatWeights(Random rnd, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
            if (rnd.nextInt(500) == 0) {
                w[i] *= 8;
            }
        }
        return w;
    }

    /** Activations with per-channel magnitudes spread over two decades and occasional outliers. */
    static float[] activations(Random rnd, int tokens, int cols) {
        float[] x = new float[tokens * cols];
        double[] channel = new double[cols];
        for (int k = 0; k < cols; k++) {
            channel[k] = Math.exp(rnd.nextGaussian());
        }
        for (int t = 0; t < tokens; t++) {
            for (int k = 0; k < cols; k++) {
                x[t * cols + k] = (float) (rnd.nextGaussian() * channel[k] * (rnd.nextInt(200) == 0 ? 20 : 1));
            }
        }
        return x;
    }
}
