package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plugin as the runtime sees it: ServiceLoader, the type registry, the WeightBackend SPI. */
class FlexqCpuBackendTest {

    private static final ClassLoader LOADER = FlexqCpuBackendTest.class.getClassLoader();

    @Test
    void typeAndBackendAreFoundThroughServiceLoader() {
        TensorTypes types = TensorTypes.discover(LOADER, List.of(FloatTypes.F32, FloatTypes.F16));
        TensorType fq6 = types.require(1030, "test");
        assertEquals("FQ6", fq6.name());
        assertEquals(128, fq6.blockSize());
        assertTrue(fq6.allowsPartialBlocks());
        assertEquals(7L * 2 * 98, fq6.byteSize(200, 7));
        assertEquals(2 * 98, fq6.rowBytes(200));
        Backends backends = Backends.discover(LOADER, s -> { });
        WeightBackend flexq = backends.all().stream().filter(b -> b.name().equals("flexq-cpu")).findFirst().orElseThrow();
        assertEquals(10, flexq.priority());
        assertTrue(flexq.availability().available(), flexq.availability().reason());
        assertTrue(flexq.supports(fq6, 4, 200));
        assertTrue(!flexq.supports(FloatTypes.F32, 4, 200));
    }

    @Test
    void matmulThroughTheSpiEqualsTheReferenceEpilogue() {
        long seed = 41L;
        Random rnd = new Random(seed);
        TensorTypes types = TensorTypes.discover(LOADER, List.of(FloatTypes.F32));
        TensorType fq6 = types.require(1030, "test");
        Backends backends = Backends.discover(LOADER, s -> { });
        int rows = 70, cols = 300, tokens = 6;
        FlexqWeights w = TestData.weights(rnd, rows, cols);
        MemorySegment bytes = MemorySegment.ofArray(w.toFq6Bytes());
        float[] x = TestData.activations(rnd, tokens, cols);
        for (int bits : new int[] {6, 8}) {
            String name = "blk.0.attn_q.weight";
            Map<String, Object> meta = Map.of(ActivationMode.metadataKey(name), (long) bits);
            WeightSource src = new WeightSource(name, fq6, rows, cols, bytes, meta);
            assertEquals("flexq-cpu", backends.choose(src).name());
            try (WeightMatrix m = backends.load(src); Arena arena = Arena.ofConfined()) {
                ActivationBatch in = FastPathTest.batch(arena, x, tokens, cols);
                ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(in, out);
                ActivationMode mode = ActivationMode.ofBits(bits, "test");
                float[] want = IntegerReference.matmul(w, ActivationQuantizer.quantize(x, tokens, cols, mode));
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(want[t * rows + r]), Float.floatToRawIntBits(out.get(t, r)),
                                "seed " + seed + ", A" + bits + ", t " + t + ", r " + r);
                    }
                }
                assertTrue(m.describe().contains("W6A" + bits), m.describe());
            }
        }
    }

    @Test
    void activationModeComesFromMetadataAndDefaultsToA8WithALogLine() {
        List<String> log = new ArrayList<>();
        FlexqCpuBackend backend = new FlexqCpuBackend(new java.util.concurrent.ForkJoinPool(1), log::add);
        assertEquals(ActivationMode.A8, backend.activationMode("blk.3.ffn_up.weight", Map.of()));
        assertEquals(1, log.size());
        assertTrue(log.get(0).contains("flexq.act_bits.blk.3.ffn_up.weight"), log.get(0));
        assertEquals(ActivationMode.A16, backend.activationMode("x", Map.of("flexq.act_bits.x", 16)));
        assertEquals(ActivationMode.A6, backend.activationMode("x", Map.of("flexq.act_bits.x", 6L)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.activationMode("x", Map.of("flexq.act_bits.x", 4L)));
        assertTrue(e.getMessage().contains("flexq.act_bits.x") && e.getMessage().contains("4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> backend.activationMode("x", Map.of("flexq.act_bits.x", "8")));
    }

    @Test
    void oneQuantizationIsSharedByMatricesReadingTheSameInput() {
        long seed = 42L;
        Random rnd = new Random(seed);
        FlexqCpuBackend backend = new FlexqCpuBackend(new java.util.concurrent.ForkJoinPool(1), s -> { });
        TensorType fq6 = new Fq6TensorType();
        int cols = 256;
        Map<String, Object> meta = Map.of("flexq.act_bits.q", 8L, "flexq.act_bits.k", 8L, "flexq.act_bits.v", 6L);
        FlexqCpuMatrix q = (FlexqCpuMatrix) backend.load(new WeightSource("q", fq6, 8, cols,
                MemorySegment.ofArray(TestData.weights(rnd, 8, cols).toFq6Bytes()), meta));
        FlexqCpuMatrix k = (FlexqCpuMatrix) backend.load(new WeightSource("k", fq6, 4, cols,
                MemorySegment.ofArray(TestData.weights(rnd, 4, cols).toFq6Bytes()), meta));
        FlexqCpuMatrix v = (FlexqCpuMatrix) backend.load(new WeightSource("v", fq6, 4, cols,
                MemorySegment.ofArray(TestData.weights(rnd, 4, cols).toFq6Bytes()), meta));
        try (Arena arena = Arena.ofConfined()) {
            ActivationBatch in = FastPathTest.batch(arena, TestData.activations(rnd, 2, cols), 2, cols);
            QuantizedActivations first = q.quantized(in);
            assertSame(first, k.quantized(in), "q and k (both A8) share one quantization");
            assertNotSame(first, v.quantized(in), "v is A6: its own quantization");
            assertEquals(ActivationMode.A6, v.quantized(in).mode());
            in.set(0, 0, 1f);
            QuantizedActivations second = k.quantized(in);
            assertNotSame(first, second, "new contents, new quantization");
            // the new contents' codes are those of the Java quantizer, whether or not the native one reused arrays
            float[] now = new float[2 * cols];
            in.getRow(0, now, 0);
            in.getRow(1, now, cols);
            QuantizedActivations want = io.flexq.plugin.quant.ActivationQuantizer.quantize(now, 2, cols, ActivationMode.A8);
            org.junit.jupiter.api.Assertions.assertArrayEquals(want.codesArray(), second.codesArray());
            org.junit.jupiter.api.Assertions.assertArrayEquals(want.scalesArray(), second.scalesArray());
        }
    }

    @Test
    void badSourcesAreRefusedNamingTheTensor() {
        FlexqCpuBackend backend = new FlexqCpuBackend(new java.util.concurrent.ForkJoinPool(1), s -> { });
        TensorType fq6 = new Fq6TensorType();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.load(new WeightSource(
                "blk.2.ffn_down.weight", fq6, 4, 256, MemorySegment.ofArray(new byte[100]), Map.of("flexq.act_bits.blk.2.ffn_down.weight", 8L))));
        assertTrue(e.getMessage().contains("blk.2.ffn_down.weight"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> backend.load(new WeightSource(
                "w", FloatTypes.F32, 4, 4, MemorySegment.ofArray(new byte[64]), Map.of())));
        assertTrue(e.getMessage().contains("FQ6"), e.getMessage());
        FlexqWeights w = TestData.weights(new Random(1), 2, 64);
        WeightMatrix m = backend.load(new WeightSource("w", fq6, 2, 64, MemorySegment.ofArray(w.toFq6Bytes()), Map.of()));
        try (Arena arena = Arena.ofConfined()) {
            e = assertThrows(IllegalArgumentException.class, () -> m.matmul(ActivationBatch.allocate(arena, 1, 65), ActivationBatch.allocate(arena, 1, 2)));
            assertTrue(e.getMessage().contains("65"), e.getMessage());
        }
    }

    @Test
    void dequantizeRowOfTheTypeEqualsCodeTimesScale() {
        long seed = 43L;
        FlexqWeights w = TestData.weights(new Random(seed), 5, 200);
        MemorySegment bytes = MemorySegment.ofArray(w.toFq6Bytes());
        float[] got = new float[200];
        for (int r = 0; r < 5; r++) {
            new Fq6TensorType().dequantizeRow(bytes, r, 200, got, 0);
            for (int k = 0; k < 200; k++) {
                assertEquals(w.code(r, k) * w.scale(r, k / 128), got[k], "seed " + seed + ", r " + r + ", k " + k);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Fq6TensorType().dequantizeRow(bytes.asSlice(0, 100), 0, 200, got, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> new Fq6TensorType().dequantizeRow(bytes, 5, 200, got, 0));
    }
}
