package io.flexq.jlama;

import io.flexq.plugin.quant.ActivationMode;

import java.util.Locale;
import java.util.Optional;

/**
 * How FQ6 layers treat their inputs: every layer A8, A6 or A16 (weight-only), or {@code auto}: the
 * per-tensor modes stored in an FQ6 file ({@code flexq.act_bits.*}); for weights quantized at load,
 * where no analysis has run, auto is FlexQ's published rule (A8 on down_proj, A6 elsewhere).
 */
public enum Mode {
    A8, A6, A16, AUTO;

    /** "a8", "a6", "a16", "auto" (any case); refuses anything else naming the value. */
    public static Mode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT).strip()) {
            case "a8", "w6a8" -> A8;
            case "a6", "w6a6" -> A6;
            case "a16", "w6a16" -> A16;
            case "auto", "" -> AUTO;
            default -> throw new IllegalArgumentException("flexq-jlama: mode '" + s + "' is not one of a8, a6, a16, auto");
        };
    }

    /** The fixed mode, or empty for AUTO. */
    Optional<ActivationMode> fixed() {
        return switch (this) {
            case A8 -> Optional.of(ActivationMode.A8);
            case A6 -> Optional.of(ActivationMode.A6);
            case A16 -> Optional.of(ActivationMode.A16);
            case AUTO -> Optional.empty();
        };
    }

    /** The mode of a tensor quantized at load (no stored choice). */
    ActivationMode atLoad(String ggufName) {
        return fixed().orElse(ggufName.endsWith(".ffn_down.weight") ? ActivationMode.A8 : ActivationMode.A6);
    }
}
