package io.flexq.plugin.quant;

import io.flexq.runtime.spi.TensorType;
import java.lang.foreign.MemorySegment;

/**
 * How far a quantized weight tensor is from the original: {@code e = w - code * sw} over every real
 * (non-padding) element, accumulated in double.
 *
 * @param sumSquaredError  {@code sum e^2}
 * @param sumSquaredWeight {@code sum w^2}
 * @param count            number of elements
 * @param maxAbsError      {@code max |e|}
 */
public record WeightError(double sumSquaredError, double sumSquaredWeight, long count, double maxAbsError) {

    /** The error of {@code bytes}, a rows x cols tensor of {@code type}, against the row-major weights w (rows decoded by the type). */
    public static WeightError of(float[] w, TensorType type, byte[] bytes, int rows, int cols) {
        MemorySegment data = MemorySegment.ofArray(bytes);
        float[] row = new float[cols];
        double sse = 0, ssw = 0, max = 0;
        for (int r = 0; r < rows; r++) {
            type.dequantizeRow(data, r, cols, row, 0);
            for (int k = 0; k < cols; k++) {
                double v = w[r * cols + k];
                double e = v - row[k];
                sse += e * e;
                ssw += v * v;
                max = Math.max(max, Math.abs(e));
            }
        }
        return new WeightError(sse, ssw, (long) rows * cols, max);
    }

    /** Mean squared error, {@code sum e^2 / n}. */
    public double mse() {
        return count == 0 ? 0 : sumSquaredError / count;
    }

    /** Relative Frobenius error {@code ||W - Q(W)||_F / ||W||_F} (0 for an all-zero tensor). */
    public double relativeFrobenius() {
        return sumSquaredWeight == 0 ? 0 : Math.sqrt(sumSquaredError / sumSquaredWeight);
    }

    WeightError plus(WeightError o) {
        return new WeightError(sumSquaredError + o.sumSquaredError, sumSquaredWeight + o.sumSquaredWeight,
                count + o.count, Math.max(maxAbsError, o.maxAbsError));
    }

    @Override
    public String toString() {
        return String.format("rel.Frobenius %.4e, MSE %.4e, max|e| %.4e", relativeFrobenius(), mse(), maxAbsError);
    }
}
