package io.flexq.conformance;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.TensorType;

import java.util.List;
import java.util.Map;

/**
 * One way of running a type: the model metadata a backend is given with the matrix, and the error model a
 * conforming result satisfies. Built-in types have one variant (fp32 activations; for Q8_0, Q4_0 and Q6_K also 8-bit
 * activations in 32-blocks, as llama.cpp's Q8_0, Q4_0 and Q6_K matmuls, the CPU backend's Q8_0 and Q4_0 prompts and its
 * one-token Q4_0 and Q6_K steps; for BF16 also activations rounded to bf16, as llama.cpp's BF16 matmuls and the CPU
 * backend's BF16 prompts). FQ6 has three, selected
 * by {@code flexq.act_bits.<tensor name>} (docs/FQ6.md section 8): W6A6, W6A8, W6A16.
 *
 * @param label    short name for reports ("fp32 act", "W6A8")
 * @param metadata model metadata handed to {@code WeightBackend.load} for a tensor named {@link MatmulConformance#TENSOR}
 */
public record Variant(String label, Map<String, Object> metadata, ErrorModel model) {

    public Variant {
        metadata = Map.copyOf(metadata);
    }

    /** GGUF's Q8_0 type id. */
    static final int Q8_0_ID = 8;
    /** GGUF's Q4_0 type id. */
    static final int Q4_0_ID = 2;
    /** GGUF's Q6_K type id. */
    static final int Q6_K_ID = 14;
    /** GGUF's BF16 type id. */
    static final int BF16_ID = 30;

    /** The variants of {@code type}. */
    public static List<Variant> forType(TensorType type) {
        if (type.id() == Fq6Layout.TYPE_ID) {
            return List.of(fq6(ActivationMode.A6), fq6(ActivationMode.A8), fq6(ActivationMode.A16));
        }
        if (type.id() == Q8_0_ID || type.id() == Q4_0_ID || type.id() == Q6_K_ID) {
            // fp32 activations, or llama.cpp's Q8_0 activations (32-blocks, codes +-127, d = amax / 127), which the CPU
            // backend uses for Q8_0 and Q4_0 prompts of 4+ tokens (NativeQ8) and one-token Q4_0 and Q6_K steps (Int8Gemv;
            // llama.cpp's Q6_K decode uses 256-blocks, a coarser grid): the quantized model's bound contains the fp32 one
            return List.of(new Variant("fp32/q8 act", Map.of(), new ErrorModel.QuantizedActivations(127, 32)));
        }
        if (type.id() == BF16_ID) {
            // fp32 activations, or activations rounded to bf16 (llama.cpp's BF16 matmuls), which the CPU backend uses
            // for BF16 prompts of 4+ tokens where the CPU has AVX-512 BF16 (NativeBf16): that bound contains the fp32 one
            return List.of(new Variant("fp32/bf16 act", Map.of(), new ErrorModel.RoundedActivations(8)));
        }
        return List.of(new Variant("fp32 act", Map.of(), new ErrorModel.FloatDot()));
    }

    /** FQ6 with the activation mode written into the metadata as the contract says. */
    public static Variant fq6(ActivationMode mode) {
        // a GGUF uint32 reads as a Long, so that is what a backend gets from a real file
        Map<String, Object> md = Map.of(ActivationMode.metadataKey(MatmulConformance.TENSOR), (long) mode.bits());
        ErrorModel model = mode.quantized()
                ? new ErrorModel.QuantizedActivations(mode.qmax(), Fq6Layout.GROUP)
                : new ErrorModel.FloatDot();
        return new Variant("W6" + mode, md, model);
    }

    @Override
    public String toString() {
        return label;
    }
}
