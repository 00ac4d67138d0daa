package io.flexq.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Published reference values for the stories260K model ({@code ../shared/models/README.md}); none of them comes
 * from this project's code.
 *
 * <ul>
 *   <li>Logits after BOS (step 0), llama.cpp v0.4.0 on the F32 GGUF with an F32 KV cache and flash attention off:
 *       top-5 (id, logit) and the mean of all 512 logits, printed to 5 decimals.</li>
 *   <li>The 160 greedy ids from BOS in {@code stories260K-greedy.txt}: an independent float32 NumPy forward; the
 *       README states llama.cpp gives the same 160 ids for the F32 and the F16 GGUF.</li>
 * </ul>
 */
public final class Stories260K {

    private Stories260K() {
    }

    public static final int BOS = 1;
    public static final int[] TOP5_IDS = {403, 385, 410, 317, 407};
    public static final double[] TOP5_LOGITS = {17.02352, 15.40621, 13.10826, 12.76917, 12.41809};
    public static final double MEAN_LOGIT = -2.09018;
    /** Smallest top-1/top-2 margin over the 160 reference steps (step 114), from the greedy file's header. */
    public static final double SMALLEST_MARGIN = 0.042;

    /** The ids on the first non-comment line of {@code stories260K-greedy.txt}. */
    public static int[] greedyIds(Path greedyTxt) {
        try {
            for (String line : Files.readAllLines(greedyTxt)) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    return Arrays.stream(line.strip().split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(greedyTxt + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException(greedyTxt + ": no line of ids");
    }
}
