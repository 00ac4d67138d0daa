package io.flexq.plugin.quant;

/**
 * The one rounding rule of FlexQ-J (docs/FQ6.md, section 1), used for weight and activation codes alike
 * on every backend:
 *
 * <pre>
 *   code = clamp(roundHalfAwayFromZero(v), lo, hi)
 *   roundHalfAwayFromZero(v) = sign(v) * floor(|v| + 0.5)        (C/CUDA roundf)
 * </pre>
 *
 * {@code |v| + 0.5} is evaluated in double so it is exact for every float (in float,
 * {@code 0.49999997f + 0.5f} rounds up to 1 and would turn a value below one half into 1).
 */
public final class Rounding {

    private Rounding() {
    }

    /** C's {@code roundf}: nearest integer, ties away from zero; NaN and infinities pass through. */
    public static float roundHalfAwayFromZero(float v) {
        return (float) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    /**
     * {@code clamp(roundHalfAwayFromZero(v), lo, hi)}; a NaN {@code v} (only {@code 0 * inf} in the
     * activation quantizer, see docs/FQ6.md section 6) gives 0.
     */
    public static int code(float v, int lo, int hi) {
        float r = roundHalfAwayFromZero(v);
        if (r != r) {
            return 0;
        }
        return (int) Math.min(Math.max(r, (float) lo), (float) hi);
    }
}
