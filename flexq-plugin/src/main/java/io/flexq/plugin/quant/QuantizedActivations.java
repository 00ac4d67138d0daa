package io.flexq.plugin.quant;

/**
 * A batch of activations quantized per token per 128-group (docs/FQ6.md, section 3): {@code tokens}
 * rows of {@code groups * 128} codes (one byte each, padding 0) and {@code tokens * groups} fp32 scales
 * {@code sa}. Element (t, k) stands for {@code code(t, k) * scale(t, k / 128)}.
 *
 * <p>The arrays are shared with kernels for speed and must not be modified after construction. A form derived from
 * an {@code ActivationBatch} by the native CPU quantizer is valid until the batch changes: its arrays are then reused
 * for the batch's next contents ({@code ActivationBatch.spare}).
 */
public final class QuantizedActivations {

    /** Key of this form in {@code ActivationBatch.derived}, so one quantization serves q, k and v. */
    public record Key(ActivationMode mode) {
        // written out: a record's generated equals/hashCode bootstrap through method handles, which run interpreted
        // (microseconds a call) until compiled, and this key is looked up four times per layer of every decode step
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.mode == mode;
        }

        @Override
        public int hashCode() {
            return mode.ordinal();
        }
    }

    private final ActivationMode mode;
    private final int tokens;
    private final int cols;
    private final int groups;
    private final byte[] codes;
    private final float[] scales;
    private final int[] codeSums;

    QuantizedActivations(ActivationMode mode, int tokens, int cols, byte[] codes, float[] scales) {
        this(mode, tokens, cols, codes, scales, null);
    }

    QuantizedActivations(ActivationMode mode, int tokens, int cols, byte[] codes, float[] scales, int[] codeSums) {
        this.mode = mode;
        this.tokens = tokens;
        this.cols = cols;
        this.groups = Fq6Layout.groups(cols);
        this.codes = codes;
        this.scales = scales;
        this.codeSums = codeSums;
    }

    public ActivationMode mode() {
        return mode;
    }

    public int tokens() {
        return tokens;
    }

    public int cols() {
        return cols;
    }

    public int groups() {
        return groups;
    }

    public int paddedCols() {
        return groups * Fq6Layout.GROUP;
    }

    public int code(int t, int k) {
        return codes[t * paddedCols() + k];
    }

    /** {@code sa} of (t, g). */
    public float scale(int t, int g) {
        return scales[t * groups + g];
    }

    /** The codes, {@code tokens * paddedCols()}, row-major; shared, do not modify. */
    public byte[] codesArray() {
        return codes;
    }

    /** The scales, index {@code t * groups + g}; shared, do not modify. */
    public float[] scalesArray() {
        return scales;
    }

    /**
     * Each (token, group)'s sum of codes, index {@code t * groups + g}, where the quantizer computed them (the native
     * one does, for its integer kernel's offset term), else null; shared, do not modify.
     */
    public int[] codeSumsArray() {
        return codeSums;
    }
}
