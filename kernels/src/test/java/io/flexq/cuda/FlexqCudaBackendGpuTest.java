package io.flexq.cuda;

import io.flexq.plugin.cpu.Fq6TensorType;
import io.flexq.plugin.cpu.IntegerReference;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA backend through the SPI: FQ6 sources in, CPU-reference outputs out, in all three activation modes. */
@Tag("gpu")
class FlexqCudaBackendGpuTest {

    static FlexqCudaBackend backend;
    static final List<String> LOG = new ArrayList<>();

    @BeforeAll
    static void open() {
        backend = new FlexqCudaBackend(Integer.getInteger("flexq.cuda.device", 0), LOG::add);
    }

    /** Per test, so each one is reported as skipped with the probe's reason when there is no GPU. */
    @BeforeEach
    void needsGpu() {
        GpuTestData.assumeGpu();
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void discoveredBackendsRouteFq6ToTheGpu() {
        List<String> log = new ArrayList<>();
        Backends backends = Backends.discover(getClass().getClassLoader(), log::add);
        FlexqWeights w = GpuTestData.weights("blk.0.attn_q.weight", 64, 256, 5);
        WeightSource src = source(w, 8);
        assertEquals("flexq-cuda", backends.choose(src).name(), "log: " + log);
    }

    @ParameterizedTest(name = "A{0} M={1} N={2} K={3}")
    @CsvSource({"6, 1, 300, 1000", "8, 1, 300, 1000", "16, 1, 300, 1000", "6, 7, 4096, 4096", "8, 77, 1000, 1111",
            "16, 77, 1000, 1111", "8, 300, 512, 640", "6, 5, 57344, 256"})
    void matmulMatchesTheCpuReference(int bits, int m, int n, int k) {
        long seed = 100L * bits + m + n + k;
        FlexqWeights w = GpuTestData.weights("blk.1.ffn_down.weight", n, k, seed);
        float[] x = GpuTestData.activations(m, k, seed + 1);
        try (Arena arena = Arena.ofConfined(); WeightMatrix mat = backend.load(source(w, bits))) {
            ActivationBatch in = ActivationBatch.allocate(arena, m, k);
            for (int t = 0; t < m; t++) {
                in.setRow(t, x, t * k);
            }
            ActivationBatch out = ActivationBatch.allocate(arena, m, n);
            out.data().fill((byte) 0xFF);  // NaN poison
            mat.matmul(in, out);
            float[] want, bound = new float[m * n];
            if (bits == 16) {
                want = IntegerReference.matmulW6A16(w, x, m);
                for (int t = 0; t < m; t++) {
                    for (int r = 0; r < n; r++) {
                        double mag = 0;
                        for (int kk = 0; kk < k; kk++) {
                            mag += Math.abs((double) w.code(r, kk) * w.scale(r, kk / 128) * x[t * k + kk]);
                        }
                        bound[t * n + r] = (float) (k * Math.scalb(1.0, -23) * mag + 1e-30);
                    }
                }
            } else {
                QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, ActivationMode.ofBits(bits, "test"));
                float[][] ref = GpuTestData.outputs(w, qa, GpuTestData.partials(w, qa));
                want = ref[0];
                bound = ref[1];
            }
            for (int t = 0; t < m; t++) {
                for (int r = 0; r < n; r++) {
                    float got = out.get(t, r);
                    float ref = want[t * n + r];
                    assertTrue(Math.abs((double) got - ref) <= bound[t * n + r],
                            () -> "W6A" + bits + " seed " + seed + ": y[" + "t][r] = " + got + ", reference " + ref + " (" + mat.describe() + ")");
                }
            }
        }
    }

    /** The int32 partials the matrix exposes (IntegerPartials) against the CPU integer reference, at the conformance kit's golden shape. */
    @ParameterizedTest(name = "A{0} M={1} N={2} K={3}")
    @CsvSource({"6, 5, 17, 200", "8, 5, 17, 200", "8, 1, 300, 1000", "6, 13, 64, 384"})
    void integerPartialsEqualTheIntegerReference(int bits, int m, int n, int k) {
        long seed = 7L * bits + m + n + k;
        FlexqWeights w = GpuTestData.weights("blk.1.ffn_down.weight", n, k, seed);
        float[] x = GpuTestData.activations(m, k, seed + 1);
        try (Arena arena = Arena.ofConfined(); WeightMatrix mat = backend.load(source(w, bits))) {
            ActivationBatch in = ActivationBatch.allocate(arena, m, k);
            for (int t = 0; t < m; t++) {
                in.setRow(t, x, t * k);
            }
            ActivationBatch out = ActivationBatch.allocate(arena, m, n);
            mat.matmul(in, out);  // as the conformance kit does: a matmul first, then the partials
            int[] got = ((io.flexq.runtime.spi.IntegerPartials) mat).integerPartials(in).orElseThrow();
            QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, ActivationMode.ofBits(bits, "test"));
            int[] want = GpuTestData.partials(w, qa);
            assertEquals(want.length, got.length);
            int g = FlexqKernels.groups(k);
            for (int i = 0; i < want.length; i++) {
                int idx = i;
                assertEquals(want[i], got[i], () -> "P[t=" + idx / (n * g) + "][r=" + idx / g % n + "][g=" + idx % g + "] (" + mat.describe() + ")");
            }
        }
    }

    @Test
    void aTensorOfTheWrongSizeIsRefusedByName() {
        FlexqWeights w = GpuTestData.weights("blk.2.attn_k.weight", 32, 256, 9);
        byte[] bytes = w.toFq6Bytes();
        WeightSource bad = new WeightSource("blk.2.attn_k.weight", new Fq6TensorType(), 32, 256,
                MemorySegment.ofArray(bytes).asSlice(0, bytes.length - 2), Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.load(bad));
        assertTrue(e.getMessage().contains("blk.2.attn_k.weight"), e.getMessage());
    }

    private static WeightSource source(FlexqWeights w, int bits) {
        String name = "blk.1.ffn_down.weight";
        return new WeightSource(name, new Fq6TensorType(), w.rows(), w.cols(), MemorySegment.ofArray(w.toFq6Bytes()),
                Map.of(ActivationMode.metadataKey(name), bits));
    }
}
