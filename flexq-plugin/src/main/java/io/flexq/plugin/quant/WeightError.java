package io.flexq.plugin.quant;

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
