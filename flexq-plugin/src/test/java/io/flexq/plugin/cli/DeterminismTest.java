package io.flexq.plugin.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Identical inputs give identical bytes: every preset, quantized twice in one JVM (the first run mostly interpreted,
 * the second JIT-compiled, which is where an unspecified reduction order shows), with the defaults that involve
 * calibration (GPTQ of the linears and of the tied FQ6 head; auto's sensitivity analysis), on stories260K with a
 * short calibration text so the test stays within seconds; {@code +smooth}: with activation smoothing ({@code --smooth});
 * {@code +max-bytes}: with the byte-budgeted promotion to Q8_0 (its KLD measurements and greedy choice);
 * {@code +builtin}: on the text built into the jar (no {@code --calib}), as {@code flexq quantize IN OUT --max-bytes q6_k}
 * runs on a real model (stories260K's FQ6 file is larger than its Q6_K budget, so a byte count stands in for q6_k);
 * {@code default+hf4}: no --preset and no --max-bytes, on a random 4-block model whose FQ6 file fits its Q6_K size, so
 * the defaults run GPTQ and the q6_k budget's promotion ({@link DefaultBudget}); on stories260K the default budget is
 * skipped (the other variants).
 */
class DeterminismTest {

    @TempDir
    static Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"auto", "paper", "a8", "a6", "w6a16", "a8+smooth", "auto+smooth", "a8+max-bytes", "auto+max-bytes", "a8+max-bytes+builtin",
            "default+hf4"})
    void twoRunsOfAPresetWriteTheSameBytes(String variant) throws Exception {
        String preset = variant.replace("+smooth", "").replace("+max-bytes", "").replace("+builtin", "");
        Path model = CliRun.root().resolve("models/stories260K.bin");
        if (variant.endsWith("+hf4")) {
            model = dir.resolve("hf4");
            if (!Files.exists(model)) {
                SafetensorsQuantizeTest.writeModel(model, 4, 512);
            }
        }
        Path calib = dir.resolve("calib.txt");
        if (!Files.exists(calib)) {
            Files.writeString(calib, CliRun.story().repeat(4));
        }
        Path[] out = {dir.resolve(variant + "-1.gguf"), dir.resolve(variant + "-2.gguf")};
        for (Path o : out) {
            List<String> argv = new ArrayList<>(List.of("quantize", model.toString(), o.toString()));
            if (variant.endsWith("+hf4")) {
                argv.addAll(List.of("--tokenizer", CliRun.root().resolve("models/tok512.bin").toString(), "--calib-windows", "2", "--calib-ctx", "96"));
            } else {
                argv.addAll(List.of("--preset", preset));
            }
            argv.addAll(List.of("--gptq", "--gptq-windows", "4", "--gptq-ctx", "128"));
            if (!variant.endsWith("+builtin")) {
                argv.addAll(List.of("--calib", calib.toString()));
            }
            if (variant.endsWith("+smooth")) {
                argv.addAll(List.of("--smooth", "0.5"));
            }
            if (variant.contains("+max-bytes")) {
                argv.addAll(List.of("--max-bytes", "400000"));
            }
            if (preset.equals("auto") || variant.contains("+max-bytes")) {
                argv.addAll(List.of("--calib-windows", "2", "--calib-ctx", "96"));
            }
            CliRun r = CliRun.of(argv.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
            if (variant.endsWith("+hf4")) {
                assertTrue(r.err().contains("default --max-bytes q6_k (--max-bytes none turns it off)"), r.err());
            }
        }
        assertEquals(-1L, Files.mismatch(out[0], out[1]), variant + ": the two files differ (first differing byte)");
    }
}
