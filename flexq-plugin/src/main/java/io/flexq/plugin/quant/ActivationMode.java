package io.flexq.plugin.quant;

/**
 * How a linear layer's input is treated (docs/FQ6.md, section 3): quantized per token per 128-group to
 * 6 bits (A6, {@code Q = 31}) or 8 bits (A8, {@code Q = 127}), or kept in fp32 (A16, weight-only W6A16).
 * The mode of a tensor is stored in model metadata as {@code flexq.act_bits.<tensor name>} = 6, 8 or 16.
 */
public enum ActivationMode {
    A6(6, 31),
    A8(8, 127),
    A16(16, 0);

    /** Prefix of the per-tensor metadata key; the tensor's GGUF name follows. */
    public static final String METADATA_PREFIX = "flexq.act_bits.";

    private final int bits;
    private final int qmax;

    ActivationMode(int bits, int qmax) {
        this.bits = bits;
        this.qmax = qmax;
    }

    public int bits() {
        return bits;
    }

    /** Largest code, {@code Q}; codes lie in {@code [-(Q + 1), Q]}. Only for quantized modes. */
    public int qmax() {
        if (this == A16) {
            throw new IllegalStateException("A16 activations are not quantized and have no code range");
        }
        return qmax;
    }

    public boolean quantized() {
        return this != A16;
    }

    /** The metadata key holding the mode of {@code tensorName}. */
    public static String metadataKey(String tensorName) {
        return METADATA_PREFIX + tensorName;
    }

    /**
     * The mode for a bit count read from a file.
     *
     * @param context where the value came from, e.g. "model.gguf: flexq.act_bits.blk.0.ffn_down.weight"
     */
    public static ActivationMode ofBits(long bits, String context) {
        for (ActivationMode m : values()) {
            if (m.bits == bits) {
                return m;
            }
        }
        throw new IllegalArgumentException(context + ": activation bits must be 6, 8 or 16, got " + bits);
    }
}
