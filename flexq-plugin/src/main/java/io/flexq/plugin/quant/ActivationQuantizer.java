package io.flexq.plugin.quant;

import io.flexq.runtime.spi.ActivationBatch;

import java.lang.foreign.ValueLayout;

/**
 * Dynamic activation quantization, per token t and 128-group g (docs/FQ6.md, section 3):
 *
 * <pre>
 *   amax = max |x| over the group;  amax == 0  ->  sa = 0, codes 0
 *   sa   = amax / Q,  inv = Q / amax                      (fp32 divisions)
 *   code = clamp(roundHalfAwayFromZero(x * inv), -(Q + 1), Q)   (x * inv: one fp32 multiply)
 * </pre>
 *
 * with {@code Q = 31} (A6) or {@code 127} (A8). Stateless.
 */
public final class ActivationQuantizer {

    private ActivationQuantizer() {
    }

    /** Quantizes the live tokens of {@code batch}. */
    public static QuantizedActivations quantize(ActivationBatch batch, ActivationMode mode) {
        int tokens = batch.tokens();
        int cols = batch.dim();
        float[] x = new float[tokens * cols];
        java.lang.foreign.MemorySegment.copy(batch.data(), ValueLayout.JAVA_FLOAT, 0, x, 0, x.length);
        return quantize(x, tokens, cols, mode);
    }

    /** Quantizes {@code tokens} row-major rows of {@code cols} floats. */
    public static QuantizedActivations quantize(float[] x, int tokens, int cols, ActivationMode mode) {
        if (!mode.quantized()) {
            throw new IllegalArgumentException("activation mode " + mode + " is not quantized");
        }
        if (tokens <= 0 || cols <= 0 || (long) tokens * cols > x.length) {
            throw new IllegalArgumentException("activations: " + tokens + " x " + cols + " does not fit " + x.length + " floats");
        }
        int q = mode.qmax();
        int groups = Fq6Layout.groups(cols);
        int padded = groups * Fq6Layout.GROUP;
        byte[] codes = new byte[Math.multiplyExact(tokens, padded)];
        float[] scales = new float[tokens * groups];
        for (int t = 0; t < tokens; t++) {
            for (int g = 0; g < groups; g++) {
                int from = t * cols + g * Fq6Layout.GROUP;
                int to = t * cols + Math.min(cols, (g + 1) * Fq6Layout.GROUP);
                scales[t * groups + g] = quantizeGroup(x, from, to, q, codes, t * padded + g * Fq6Layout.GROUP);
            }
        }
        return new QuantizedActivations(mode, tokens, cols, codes, scales);
    }

    /**
     * Activations quantized elsewhere by this class's rule (a native kernel, checked against {@link #quantize}):
     * {@code codes} rows of the padded width, {@code scales} index {@code t * groups + g}; the arrays are kept.
     */
    public static QuantizedActivations fromCodes(ActivationMode mode, int tokens, int cols, byte[] codes, float[] scales) {
        return fromCodes(mode, tokens, cols, codes, scales, null);
    }

    /**
     * As above with each (token, group)'s sum of codes at {@code t * groups + g} (or null), which the caller vouches
     * for: the native quantizer computes them with the codes, and the integer kernel trusts them.
     */
    public static QuantizedActivations fromCodes(ActivationMode mode, int tokens, int cols, byte[] codes, float[] scales, int[] codeSums) {
        int groups = Fq6Layout.groups(cols);
        if (!mode.quantized() || tokens <= 0 || codes.length != (long) tokens * groups * Fq6Layout.GROUP
                || scales.length != (long) tokens * groups || (codeSums != null && codeSums.length != (long) tokens * groups)) {
            throw new IllegalArgumentException(mode + " activations of " + tokens + " x " + cols + ": " + codes.length
                    + " codes, " + scales.length + " scales" + (codeSums != null ? " and " + codeSums.length + " code sums" : "")
                    + " do not match");
        }
        return new QuantizedActivations(mode, tokens, cols, codes, scales, codeSums);
    }

    /** Quantizes {@code x[from, to)} into {@code codes[dst ..]} and returns {@code sa}. */
    static float quantizeGroup(float[] x, int from, int to, int q, byte[] codes, int dst) {
        float amax = 0;
        for (int i = from; i < to; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        if (amax == 0f) {
            return 0f;
        }
        float inv = q / amax;
        for (int i = from; i < to; i++) {
            codes[dst + i - from] = (byte) Rounding.code(x[i] * inv, -(q + 1), q);
        }
        return amax / q;
    }
}
