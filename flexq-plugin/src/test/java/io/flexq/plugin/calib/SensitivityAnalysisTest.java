package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.plugin.fq6.SyntheticLlama;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SensitivityAnalysisTest {

    static final long SEED = 424242L;
    static final String SENSITIVE = "blk.1.ffn_down.weight";
    static final ClassLoader LOADER = SensitivityAnalysisTest.class.getClassLoader();

    @TempDir
    Path dir;

    /**
     * Plants post-SwiGLU outliers in front of blk.1.ffn_down: hidden channels 5 and 133 (one per 128-group) get gate
     * and up rows scaled by 6, so they come out ~36x larger than the rest, and ffn_down's columns 5 and 133 are
     * scaled by 1/36 so the model's output stays as it was. With per-group A6 (step = amax / 31) the other channels
     * of those groups are crushed to a step of about the size of their values; A8 (amax / 127) keeps them.
     */
    static SyntheticLlama model(boolean outliers) {
        SyntheticLlama m = new SyntheticLlama(128, 256, 2, 4, 2, 256, SEED);
        if (outliers) {
            for (int j : new int[]{5, 133}) {
                m.scaleRow("blk.1.ffn_gate.weight", j, 6f);
                m.scaleRow("blk.1.ffn_up.weight", j, 6f);
                m.scaleColumn(SENSITIVE, j, 1f / 36f);
            }
        }
        return m;
    }

    static List<int[]> windows(int vocab) {
        Random rnd = new Random(SEED + 1);
        List<int[]> w = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int[] t = new int[48];
            for (int k = 0; k < t.length; k++) t[k] = rnd.nextInt(vocab);
            w.add(t);
        }
        return w;
    }

    /** The model with FQ6 linears and the given modes in its metadata (empty map: no act_bits keys). */
    static QuantizedModel quantized(ModelFile src, Map<String, ActivationMode> modes, TensorTypes types) {
        List<ModelQuantizer.Layer> layers = ModelQuantizer.quantize(src, WeightQuantizer.clipping(), (a, b) -> { });
        Map<String, Object> v = new LinkedHashMap<>();
        Map<String, GgufType> t = new LinkedHashMap<>();
        modes.forEach((k, m) -> {
            v.put(ActivationMode.metadataKey(k), (long) m.bits());
            t.put(ActivationMode.metadataKey(k), GgufType.UINT32);
        });
        return ModelQuantizer.assemble(src, MetadataTypes.of(src), layers, types.require(Fq6Layout.TYPE_ID, "test"), v, t, src.path());
    }

    static SensitivityAnalysis.Result analyse(Path file) {
        TensorTypes types = BuiltinTypes.registry(LOADER);
        try (ModelFile src = GgufFile.open(file, types)) {
            QuantizedModel q = quantized(src, Map.of(), types);
            return SensitivityAnalysis.run(q, Backends.discover(LOADER, s -> { }), windows(256), true, (d, n, w) -> { }, s -> { });
        }
    }

    @Test
    void plantedOutlierLayerIsPickedForA8() throws Exception {
        SensitivityAnalysis.Result r = analyse(model(true).write(dir.resolve("outliers.gguf"), FloatTypes.F32));
        assertEquals(14, r.scores().size());
        assertEquals(3 * 48, r.positions());
        String top = r.scores().entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        assertEquals(SENSITIVE, top, "seed " + SEED + ", scores " + r.scores());
        assertEquals(Set.of(SENSITIVE), A8Selection.choose(r.scores(), Budget.parse("a8=1")).a8());
        // ranked by A8 gain in the all-A6 model it is picked too; all-A6 is worse than any single A6 layer
        assertEquals(Set.of(SENSITIVE), A8Selection.choose(r.gains(), Budget.parse("a8=1"), r.allA6()).a8(), "gains " + r.gains());
        assertTrue(r.allA6() > r.scores().get(SENSITIVE), "all-A6 " + r.allA6());
        // with the default budget (a quarter of 14 layers = 3) it is among the A8 layers too
        assertTrue(A8Selection.choose(r.scores(), Budget.DEFAULT).isA8(SENSITIVE));
        r.scores().values().forEach(s -> assertTrue(s >= 0, "KLD is never negative: " + r.scores()));

        // control: the same model without the outliers does not single that layer out; the planted score is far above it
        SensitivityAnalysis.Result plain = analyse(model(false).write(dir.resolve("plain.gguf"), FloatTypes.F32));
        assertTrue(r.scores().get(SENSITIVE) > 5 * plain.scores().get(SENSITIVE),
                "planted " + r.scores().get(SENSITIVE) + " vs plain " + plain.scores().get(SENSITIVE) + " (seed " + SEED + ")");
    }

    /**
     * Switching one layer to A6 in the analysis gives the logits of a model loaded the ordinary way with that
     * layer's act_bits = 6 and every other layer's = 8 in its metadata, up to float summation order (the runtime's
     * float kernels may split work across threads differently from run to run): within 1e-4, while leaving the layer at
     * A8 moves them by far more.
     */
    @Test
    void switchedModelEqualsModelLoadedWithThoseModes() throws Exception {
        Path file = model(true).write(dir.resolve("m.gguf"), FloatTypes.F32);
        TensorTypes types = BuiltinTypes.registry(LOADER);
        int[] tokens = windows(256).getFirst();
        try (ModelFile src = GgufFile.open(file, types)) {
            Map<String, ActivationMode> modes = new LinkedHashMap<>();
            for (var name : ModelQuantizer.linears(src)) modes.put(name.name(), ActivationMode.A8);
            modes.put(SENSITIVE, ActivationMode.A6);
            float[][] expected;
            Backends plain = Backends.discover(LOADER, s -> { });
            try (Llama fixed = Llama.load(quantized(src, modes, types), plain, List.of(), s -> { });
                 LlamaSession s = fixed.newSession(tokens.length, tokens.length)) {
                expected = s.forwardAll(tokens, 0, tokens.length);
            }
            SwitchableBackend sw = new SwitchableBackend(plain, List.of(ActivationMode.A8, ActivationMode.A6), ActivationMode.A8);
            List<WeightBackend> all = new ArrayList<>(List.of(sw));
            all.addAll(plain.all());
            try (Llama switchable = Llama.load(quantized(src, Map.of(), types), new Backends(all, s -> { }), List.of(), s -> { });
                 LlamaSession s = switchable.newSession(tokens.length, tokens.length)) {
                assertEquals(14, sw.matrices().size());
                float[][] allA8 = s.forwardAll(tokens, 0, tokens.length);
                sw.matrices().get(SENSITIVE).setMode(ActivationMode.A6);
                s.rewind(0);
                float[][] got = s.forwardAll(tokens, 0, tokens.length);
                double maxSame = 0, maxWrong = 0;
                for (int p = 0; p < tokens.length; p++) {
                    for (int v = 0; v < got[p].length; v++) {
                        maxSame = Math.max(maxSame, Math.abs(expected[p][v] - got[p][v]));
                        maxWrong = Math.max(maxWrong, Math.abs(expected[p][v] - allA8[p][v]));
                    }
                }
                assertTrue(maxSame < 1e-4, "switched vs metadata-loaded: max |diff| " + maxSame);
                assertTrue(maxWrong > 100 * 1e-4, "the layer's mode matters: max |diff| " + maxWrong);
            }
        }
    }

    @Test
    void windowsAreEvenlySpacedAndStartWithBos() {
        int[] tokens = new int[1000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 10 + i;
        List<int[]> w = SensitivityAnalysis.windows(tokens, 4, 100, 1);
        assertEquals(4, w.size());
        assertEquals(1, w.get(2)[0]);
        assertEquals(10 + 600 + 1, w.get(2)[1]); // stride (1000 - 100) / 3 = 300
        assertEquals(1, SensitivityAnalysis.windows(new int[]{5, 6, 7}, 4, 100, 1).size());
        assertEquals(0, SensitivityAnalysis.windows(new int[0], 4, 100, 1).size());
    }
}
