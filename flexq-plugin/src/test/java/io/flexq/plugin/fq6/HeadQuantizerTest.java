package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token embedding / output head of an FQ6 file: quantized, a tied head stored once and run from the embedding. */
class HeadQuantizerTest {

    static final ClassLoader LOADER = HeadQuantizerTest.class.getClassLoader();

    @TempDir
    Path dir;

    private static TensorType fq6() {
        return BuiltinTypes.registry(LOADER).find(Fq6Layout.TYPE_ID).orElseThrow();
    }

    private Path tiedModel() throws Exception {
        SyntheticLlama syn = new SyntheticLlama(256, 256, 1, 4, 2, 96, 77L);
        // as llama.cpp's llama2.c converter does: the shared classifier written a second time as output.weight
        syn.weights.put("output.weight", syn.weights.get("token_embd.weight").clone());
        return syn.write(dir.resolve("tied.gguf"), FloatTypes.F32);
    }

    @Test
    void aCopiedHeadIsTiedAndDroppedAnUntiedOneIsQuantizedOnItsOwn() throws Exception {
        var types = BuiltinTypes.registry(LOADER);
        try (ModelFile tied = ModelFiles.open(tiedModel(), types)) {
            assertTrue(HeadQuantizer.tied(tied));
            HeadQuantizer.Result r = HeadQuantizer.quantize(tied, HeadFormat.FQ6, WeightQuantizer.clipping(), Optional.empty(), fq6());
            assertEquals(Set.of("output.weight"), r.dropped());
            assertEquals(List.of("token_embd.weight"), List.copyOf(r.replaced().keySet()));
            assertEquals("token_embd.weight", r.headTensor());
            QuantizedModel m = ModelQuantizer.assemble(tied, MetadataTypes.of(tied), List.of(), r, fq6(), Map.of(), Map.of(), dir.resolve("x"));
            assertFalse(m.tensors().containsKey("output.weight"));
            assertEquals(96L * 2 * 98, m.tensors().get("token_embd.weight").data().byteSize(), "96 rows of two 128-groups");
        }
        Path untied = new SyntheticLlama(256, 256, 1, 4, 2, 96, 78L).write(dir.resolve("untied.gguf"), FloatTypes.F32);
        try (ModelFile m = ModelFiles.open(untied, types)) {
            assertFalse(HeadQuantizer.tied(m));
            HeadQuantizer.Result r = HeadQuantizer.quantize(m, HeadFormat.Q8_0, WeightQuantizer.clipping(), Optional.empty(), fq6());
            assertTrue(r.dropped().isEmpty());
            assertEquals(Set.of("token_embd.weight", "output.weight"), r.replaced().keySet());
            assertEquals("output.weight", r.headTensor());
            r.replaced().values().forEach(t -> assertEquals("Q8_0", t.type().name()));
            // Q8_0 on N(0, 1) weights: relative error well under 1%
            r.errors().values().forEach(e -> assertTrue(e.relativeFrobenius() < 0.01, e.toString()));
        }
    }

    /**
     * The runtime runs a tied head from token_embd.weight (here FQ6 at A16, and Q8_0): its logits equal those of the
     * same model stored the old way, with F32 token_embd.weight and output.weight holding the dequantized values.
     */
    @Test
    void theTiedHeadRunsFromTheStoredEmbedding() throws Exception {
        var types = BuiltinTypes.registry(LOADER);
        int[] tokens = {1, 17, 42, 5, 88, 3, 60, 2};
        try (ModelFile src = ModelFiles.open(tiedModel(), types)) {
            for (HeadFormat format : List.of(HeadFormat.FQ6, HeadFormat.Q8_0)) {
                HeadQuantizer.Result r = HeadQuantizer.quantize(src, format, WeightQuantizer.clipping(), Optional.empty(), fq6());
                Map<String, Object> extra = new LinkedHashMap<>();
                Map<String, GgufType> extraTypes = new LinkedHashMap<>();
                extra.put(ActivationMode.metadataKey("token_embd.weight"), 16L);
                extraTypes.put(ActivationMode.metadataKey("token_embd.weight"), GgufType.UINT32);
                QuantizedModel quantized = ModelQuantizer.assemble(src, MetadataTypes.of(src), List.of(), r, fq6(), extra, extraTypes, dir.resolve("q"));

                TensorEntry q = r.replaced().get("token_embd.weight");
                int rows = (int) q.rows(), cols = (int) q.cols();
                float[] deq = new float[rows * cols];
                for (int i = 0; i < rows; i++) {
                    q.type().dequantizeRow(q.data(), i, cols, deq, i * cols);
                }
                byte[] f32 = new byte[deq.length * 4];
                ByteBuffer.wrap(f32).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(deq);
                Map<String, TensorEntry> plain = new LinkedHashMap<>(src.tensors());
                for (String n : List.of("token_embd.weight", "output.weight")) {
                    plain.put(n, new TensorEntry(n, FloatTypes.F32, q.ne(), MemorySegment.ofArray(f32)));
                }
                QuantizedModel reference = new QuantizedModel(dir.resolve("ref"), "gguf", src.metadata().asMap(), MetadataTypes.of(src), plain);

                float[][] got = logits(quantized, tokens);
                float[][] want = logits(reference, tokens);
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < want[t].length; v++) {
                        assertEquals(want[t][v], got[t][v], 1e-4 * (1 + Math.abs(want[t][v])), format + " token " + t + " logit " + v);
                    }
                }
            }
        }
    }

    /**
     * The logits after each token, one decode step at a time: a batch of tokens would run a Q8_0 head with 8-bit
     * activations (the runtime's NativeQ8 prompts, llama.cpp's numerics), and this test compares heads at fp32.
     */
    private static float[][] logits(ModelFile m, int[] tokens) {
        try (Llama l = Llama.load(m, LOADER, s -> { }); LlamaSession s = l.newSession(tokens.length, tokens.length)) {
            float[][] copy = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                copy[i] = s.forward(tokens, i, 1).clone();
            }
            return copy;
        }
    }
}
