package io.flexq.cuda;

import io.flexq.plugin.cli.Main;
import io.flexq.plugin.cpu.FlexqCpuBackend;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole-model FQ6 file with {@code --head fq6} (linears and the tied embedding/head in FQ6, no output.weight) runs with
 * its head on the GPU: the head, loaded as {@code token_embd.weight}, goes to flexq-cuda, and the logits equal the
 * CPU backend's within the epilogue bound (integer partials are exact on both; only fp32 summation order differs).
 */
@Tag("gpu")
class WholeModelHeadGpuTest {

    @TempDir
    Path dir;

    @BeforeEach
    void needsGpu() {
        GpuTestData.assumeGpu();
    }

    @Test
    void tiedFq6HeadRunsOnTheGpuWithTheCpuLogits() throws Exception {
        Path root = Path.of(System.getProperty("flexq.root", "..")).toAbsolutePath().normalize();
        Path file = dir.resolve("stories-fq6.gguf");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.standard().run(new String[] {"quantize", root.resolve("models/stories260K.bin").toString(), file.toString(), "--no-gptq", "--head", "fq6"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), false);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        int[] tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
        ClassLoader cl = getClass().getClassLoader();
        try (ModelFile m = ModelFiles.open(file, BuiltinTypes.registry(cl))) {
            assertTrue(!m.tensors().containsKey("output.weight") && m.tensor("token_embd.weight").type().id() == 1030, "a tied FQ6 head");
            List<String> log = new ArrayList<>();
            float[][] gpu;
            try (Llama l = Llama.load(m, Backends.discover(cl, log::add), List.of(), log::add)) {
                assertTrue(l.describe().stream().anyMatch(d -> d.startsWith("token_embd.weight") && d.contains("cuda")), l.describe().toString());
                gpu = logits(l, tokens);
            }
            float[][] cpu;
            Backends cpuOnly = new Backends(List.of(new FlexqCpuBackend(), new CpuBackend()), s -> { });
            try (Llama l = Llama.load(m, cpuOnly, List.of(), s -> { })) {
                cpu = logits(l, tokens);
            }
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < cpu[t].length; v++) {
                    assertEquals(cpu[t][v], gpu[t][v], 1e-3 * (1 + Math.abs(cpu[t][v])), "token " + t + " logit " + v);
                }
            }
        }
    }

    private static float[][] logits(Llama l, int[] tokens) {
        try (LlamaSession s = l.newSession(tokens.length, tokens.length)) {
            float[][] out = s.forwardAll(tokens, 0, tokens.length);
            float[][] copy = new float[out.length][];
            for (int i = 0; i < out.length; i++) {
                copy[i] = out[i].clone();
            }
            return copy;
        }
    }
}
