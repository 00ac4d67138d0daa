package io.flexq.runtime.tensor;

/** The block-quantized storage types of GGUF the runtime reads and writes: Q4_0 (id 2), Q8_0 (id 8), Q6_K (id 14). */
public final class QuantTypes {

    private QuantTypes() {
    }

    public static final Q4_0Type Q4_0 = new Q4_0Type();
    public static final Q8_0Type Q8_0 = new Q8_0Type();
    public static final Q6_KType Q6_K = new Q6_KType();
}
