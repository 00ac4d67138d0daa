package io.flexq.cuda;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FQ6 gate and up of a hidden width that is a multiple of 128 are stacked in alternating 128-row groups on the device
 * ({@link Projection#interleaved}), and decode steps run SwiGLU with the quantizer of down's input in the gate+up
 * matmul's last block of each group (dec_gateup_swiglu_gemv). A random two-layer FQ6 model (hidden width 1536: 12
 * groups): a 40-token prompt, then 24 decode steps.
 */
@Tag("gpu")
class SwigluGpuTest {

    private static final ModelShape SHAPE = new ModelShape("swiglu-groups", 512, 1536, 2, 8, 2, 64, 1000, 2048, 10000.0, null, false);

    @BeforeAll
    static void needsGpu() {
        GpuTestData.assumeGpu();
    }

    /** The same operations on the same values as the separate SwiGLU kernel (on the same interleaved layout): bit for bit. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"a8", "a6"})
    void swigluInTheMatmulEqualsTheSeparateKernelBitForBit(String preset) {
        List<float[]> separate, fused;
        System.setProperty("flexq.cuda.fuseSwiglu", "false");
        try {
            separate = logits(preset, CudaDecoderGpuTest::device);
        } finally {
            System.clearProperty("flexq.cuda.fuseSwiglu");
        }
        fused = logits(preset, CudaDecoderGpuTest::device);
        assertEquals(separate.size(), fused.size());
        for (int i = 0; i < separate.size(); i++) {
            float[] a = separate.get(i), b = fused.get(i);
            for (int v = 0; v < a.length; v++) {
                int row = i, at = v;
                assertEquals(Float.floatToRawIntBits(a[v]), Float.floatToRawIntBits(b[v]),
                        () -> preset + " row " + row + " logit " + at + ": separate " + a[at] + ", in the matmul " + b[at]);
            }
        }
        System.out.printf("[swiglu] %s: SwiGLU in the gate+up matmul equals the separate kernel bit for bit, %d rows%n", preset, fused.size());
    }

    /**
     * The interleaved layout read back right: device logits (prompt through the separate kernel with the 256-float group
     * stride, decode steps through the matmul) against the host's, W6A16 (fp32 activations, so that no activation code
     * flips on a rounding difference): max |dlogit| within 1e-2 of the largest logit. A gate or up group read from the
     * wrong place would be off by the size of the logits.
     */
    @Test
    void theInterleavedStackingReadsAsTheHostDoes() {
        List<float[]> host = logits("w6a16", CudaDecoderGpuTest::host), device = logits("w6a16", CudaDecoderGpuTest::device);
        double worst = 0, scale = 0;
        for (int i = 0; i < host.size(); i++) {
            for (int v = 0; v < host.get(i).length; v++) {
                worst = Math.max(worst, Math.abs(host.get(i)[v] - device.get(i)[v]));
                scale = Math.max(scale, Math.abs(host.get(i)[v]));
            }
        }
        System.out.printf("[swiglu] host vs device, W6A16, %d rows: max |dlogit| %.3g (largest |logit| %.3g)%n", host.size(), worst, scale);
        assertTrue(scale > 0, "logits are not all zero");
        assertTrue(worst <= 1e-2 * scale, "max |dlogit| " + worst + " for logits up to " + scale);
    }

    private static List<float[]> logits(String preset, Function<ModelFile, Llama> load) {
        System.setProperty("flexq.act_preset", preset);
        try (ModelFile f = new SyntheticFq6Model(SHAPE, BuiltinTypes.registry(SwigluGpuTest.class.getClassLoader()), 5);
             Llama l = load.apply(f);
             LlamaSession s = l.newSession(100, 100)) {
            int[] prompt = new int[40];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (i * 41) % 900;
            }
            List<float[]> out = new ArrayList<>(List.of(s.forwardAll(prompt, 0, prompt.length)));
            for (int i = 0; i < 24; i++) {
                out.add(s.forward(new int[] {1 + (i * 59) % 900}, 0, 1));
            }
            return out;
        } finally {
            System.clearProperty("flexq.act_preset");
        }
    }
}
