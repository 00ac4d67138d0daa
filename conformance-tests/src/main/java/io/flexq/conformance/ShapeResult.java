package io.flexq.conformance;

/**
 * What one shape of a matmul conformance run gave.
 *
 * @param worstRatio largest {@code |e| / bound} over the outputs (a passing shape has it at most 1)
 * @param rmsSigmas  root mean square of {@code e / sigma} for quantized-activation models (NaN otherwise, or
 *                   when the shape has too few outputs to judge)
 * @param matrix     the backend's {@code describe()} of the loaded matrix, or "" if it never loaded
 * @param detail     why it failed, or a note (the worst output) when it passed
 */
public record ShapeResult(Shape shape, long seed, Outcome outcome, double worstRatio, double rmsSigmas,
                          String matrix, String detail) {

    public enum Outcome { PASSED, FAILED, UNSUPPORTED }

    public boolean failed() {
        return outcome == Outcome.FAILED;
    }

    @Override
    public String toString() {
        return shape + ", seed " + seed + ": " + outcome
                + (outcome == Outcome.UNSUPPORTED ? "" : String.format(", worst |e|/bound %.3g", worstRatio))
                + (Double.isNaN(rmsSigmas) ? "" : String.format(", rms e/sigma %.3f", rmsSigmas))
                + (detail.isEmpty() ? "" : ": " + detail);
    }
}
