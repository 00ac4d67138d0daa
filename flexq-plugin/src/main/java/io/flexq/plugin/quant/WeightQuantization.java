package io.flexq.plugin.quant;

/**
 * The result of quantizing one weight tensor.
 *
 * @param weights       codes and fp16 scales
 * @param rtnError      error of plain round-to-nearest ({@code s = fp16(absmax / 31)}), always measured
 * @param error         error of the scales actually chosen (equal to {@code rtnError} without clipping)
 * @param clippedGroups groups whose chosen scale is below the RTN one ({@code alpha < 1})
 */
public record WeightQuantization(FlexqWeights weights, WeightError rtnError, WeightError error, long clippedGroups) {

    public long totalGroups() {
        return (long) weights.rows() * weights.groups();
    }

    @Override
    public String toString() {
        return "RTN: " + rtnError + "; chosen: " + error + "; clipped groups " + clippedGroups + "/" + totalGroups();
    }
}
