package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * stories260K through the real loaders: the llama2.c .bin and llama.cpp's GGUF conversions. The F32 GGUF holds the
 * same float32 weights as the .bin (models/README.md), so the logits must agree to float rounding; the F16 GGUF
 * must still give the 160 reference tokens, as it does in llama.cpp.
 */
class GgufEquivalenceTest {

    static final ClassLoader LOADER = GgufEquivalenceTest.class.getClassLoader();
    static final TensorTypes TYPES = BuiltinTypes.registry(LOADER);

    static Llama load(ModelFile f, List<String> log) {
        return Llama.load(f, Backends.discover(LOADER, log::add), List.of(), log::add);
    }

    @Test
    void theF32GgufGivesTheLogitsOfTheBin() throws IOException {
        List<String> log = new ArrayList<>();
        int[] greedy = LlamaForwardTest.referenceGreedyIds();
        int[] prompt = LlamaForwardTest.prepend(1, Arrays.copyOf(greedy, 30));
        try (ModelFile bin = ModelFiles.open(SharedData.require("models/stories260K.bin"), TYPES);
             ModelFile gguf = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), TYPES);
             Llama a = load(bin, log); Llama b = load(gguf, log);
             LlamaSession sa = a.newSession(64); LlamaSession sb = b.newSession(64)) {
            assertEquals(512, a.config().contextLength());
            assertEquals(128, b.config().contextLength(), "the converter writes its own default context");
            assertEquals(a.config().withContextLength(0), b.config().withContextLength(0));
            float[][] la = sa.forwardAll(prompt, 0, prompt.length);
            float[][] lb = sb.forwardAll(prompt, 0, prompt.length);
            for (int i = 0; i < prompt.length; i++) {
                LlamaForwardTest.assertClose(la[i], lb[i], 1e-5, "prefill position " + i);
            }
            for (int step = 0; step < 10; step++) {
                int next = greedy[30 + step];
                LlamaForwardTest.assertClose(sa.forward(new int[]{next}, 0, 1), sb.forward(new int[]{next}, 0, 1), 1e-5, "decode step " + step);
            }
        }
    }

    @Test
    void theF16GgufReproducesThe160ReferenceTokens() throws IOException {
        int[] expected = LlamaForwardTest.referenceGreedyIds();
        List<String> log = new ArrayList<>();
        try (ModelFile gguf = ModelFiles.open(SharedData.require("models/stories260K-f16.gguf"), TYPES);
             Llama llama = load(gguf, log); LlamaSession s = llama.newSession(512)) {
            assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: context 512")), "a context past the trained 128 is warned about");
            int[] got = new int[expected.length];
            int token = 1;
            for (int i = 0; i < got.length; i++) {
                token = LlamaForwardTest.argmax(s.forward(new int[]{token}, 0, 1));
                got[i] = token;
            }
            assertArrayEquals(expected, got);
        }
    }
}
