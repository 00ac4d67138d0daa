package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.ActivationMode;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How {@code flexq quantize} picks each linear layer's activation mode.
 * <ul>
 *   <li>{@code paper}: as FlexQ's released code does for LLaMA: A8 on {@code ffn_down} (its input carries the
 *       post-SwiGLU outliers), A6 everywhere else;</li>
 *   <li>{@code a8}, {@code a6}: every linear layer W6A8 or W6A6;</li>
 *   <li>{@code w6a16}: weight-only, activations stay fp32;</li>
 *   <li>{@code auto}: the sensitivity analysis decides, under a budget ({@link io.flexq.plugin.calib.Budget}).</li>
 * </ul>
 */
public enum Preset {
    AUTO, PAPER, A8, A6, W6A16;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(Preset::id).toList();
    }

    public static Preset of(String id) {
        for (Preset p : values()) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown preset '" + id + "' (presets: " + String.join(", ", ids()) + ")");
    }

    /** The mode of a linear tensor under a fixed preset; {@code auto} has none (it needs scores). */
    public ActivationMode fixedMode(String tensorName) {
        return switch (this) {
            case PAPER -> tensorName.endsWith(".ffn_down.weight") ? ActivationMode.A8 : ActivationMode.A6;
            case A8 -> ActivationMode.A8;
            case A6 -> ActivationMode.A6;
            case W6A16 -> ActivationMode.A16;
            case AUTO -> throw new IllegalStateException("preset auto has no fixed mode: run the sensitivity analysis");
        };
    }
}
