package io.flexq.plugin.fq6;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How an FQ6 file stores the token embedding and the output head (a tied head is stored once, as the embedding).
 * <ul>
 *   <li>{@code fq6}: FQ6 (INT6, 128-groups, fp16 scales; 6.125 bits), the head runs through the FQ6 kernels at A8
 *       (A16 under the w6a16 preset) and the embedding rows are dequantized for lookup.</li>
 *   <li>{@code q8_0} (the default), {@code q6_k}: GGUF's Q8_0 (8.5 bits) / Q6_K (6.5625 bits), run by the runtime's
 *       kernels (weights only; activations stay fp32 on the CPU).</li>
 *   <li>{@code keep}: the source's type (e.g. F16), as before FQ6 files quantized the whole model.</li>
 * </ul>
 */
public enum HeadFormat {
    FQ6, Q8_0, Q6_K, KEEP;

    /**
     * Q8_0, by measurement: on the 27M reference model (bench/results/quality-ref27M.md, head table) an FQ6 head
     * raised the whole-model KLD by half over an F16 head (its 2.6% weight error reaches the logits directly), Q6_K
     * by a fifth, Q8_0 by 2%, for 0.6 MB more than FQ6 on that model and still well under llama.cpp's Q6_K file.
     */
    public static final HeadFormat DEFAULT = Q8_0;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(HeadFormat::id).toList();
    }

    public static HeadFormat of(String id) {
        for (HeadFormat f : values()) {
            if (f.id().equals(id)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown head format '" + id + "' (formats: " + String.join(", ", ids()) + ")");
    }
}
