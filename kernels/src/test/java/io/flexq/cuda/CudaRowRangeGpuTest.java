package io.flexq.cuda;

import io.flexq.plugin.cpu.Fq6TensorType;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.WeightSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Row ranges of a CUDA FQ6 matrix as Jlama sends them (ragged chunks covering every row, one per worker thread, all at
 * once) equal the same rows of the whole product, bit for bit, in each {@link RowRanges} way; where the whole product is
 * not reproducible itself (a split-K GEMV of three or more splits, atomics) both are held to the CPU reference's bound.
 */
@Tag("gpu")
class CudaRowRangeGpuTest {

    static FlexqCudaBackend backend;
    static ExecutorService pool;

    @BeforeAll
    static void open() {
        backend = new FlexqCudaBackend(Integer.getInteger("flexq.cuda.device", 0), line -> { });
        pool = Executors.newFixedThreadPool(8);
    }

    /** Per test, so each one is reported as skipped with the probe's reason when there is no GPU. */
    @BeforeEach
    void needsGpu() {
        GpuTestData.assumeGpu();
    }

    @AfterAll
    static void close() {
        pool.shutdownNow();
        if (backend != null) {
            backend.close();
        }
    }

    // M: 1 and 8 the ordered GEMV, 33 and 60 the table's split GEMVs, 77 / 130 / 300 the GEMMs; N not multiples of 16
    @ParameterizedTest(name = "A{0} M={1} N={2} K={3}")
    @CsvSource({"8, 1, 300, 1000", "6, 1, 1000, 512", "8, 8, 4101, 512", "6, 5, 97, 256", "8, 33, 1000, 1111", "6, 60, 2048, 512",
            "8, 77, 1000, 1111", "6, 130, 513, 640", "8, 300, 97, 256", "16, 1, 300, 1000", "16, 77, 130, 384"})
    void raggedChunksFromManyThreadsEqualTheWholeProduct(int bits, int m, int n, int k) throws Exception {
        long seed = 31L * bits + 7L * m + n + k;
        SplittableRandom rnd = new SplittableRandom(seed);
        FlexqWeights w = GpuTestData.weights("blk.3.ffn_up.weight", n, k, seed);
        float[] x = GpuTestData.activations(m, k, seed + 1);
        String name = "blk.3.ffn_up.weight";
        WeightSource src = new WeightSource(name, new Fq6TensorType(), n, k, MemorySegment.ofArray(w.toFq6Bytes()),
                Map.of(ActivationMode.metadataKey(name), bits));
        try (Arena arena = Arena.ofShared(); CudaFq6Matrix mat = (CudaFq6Matrix) backend.load(src)) {
            ActivationBatch in = ActivationBatch.allocate(arena, m, k);
            for (int t = 0; t < m; t++) {
                in.setRow(t, x, t * k);
            }
            ActivationBatch whole = ActivationBatch.allocate(arena, m, n);
            mat.matmul(in, whole);
            Dispatcher.Choice c = bits == 16 ? null : mat.choice(m);
            boolean reproducible = c == null || c.spec().gemm() || c.spec().ordered() || realSplits(c, k) <= 2;
            float[][] ref = bits == 16 ? null : reference(w, x, m, k, bits);
            for (RowRanges how : RowRanges.values()) {
                long productsBefore = mat.sharedProduct().products();
                MemorySegment ys = arena.allocate(4L * m * n);
                ys.fill((byte) 0xFF);  // NaN poison: a row no chunk wrote fails
                List<int[]> chunks = chunks(rnd, n);
                List<Future<?>> done = new ArrayList<>();
                for (int[] ch : chunks) {
                    // as the Jlama adapter: one batch object per chunk over the same memory, on a worker thread
                    done.add(pool.submit(() -> mat.matmul(ActivationBatch.wrap(in.data(), m, k), ActivationBatch.wrap(ys, m, n), ch[0], ch[1], how)));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                String what = "W6A" + bits + " seed " + seed + " " + how + " " + chunks.size() + " chunks, " + mat.describe();
                ActivationBatch got = ActivationBatch.wrap(ys, m, n);
                for (int t = 0; t < m; t++) {
                    for (int r = 0; r < n; r++) {
                        float g = got.get(t, r), want = whole.get(t, r);
                        int tt = t, rr = r;
                        if (reproducible) {
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(g),
                                    () -> what + ": y[" + tt + "][" + rr + "] = " + g + ", whole product " + want);
                        } else {
                            float rf = ref[0][t * n + r], bound = ref[1][t * n + r];
                            assertTrue(Math.abs((double) g - rf) <= bound, () -> what + ": y[" + tt + "][" + rr + "] = " + g + ", reference " + rf);
                        }
                    }
                }
                if (how == RowRanges.SHARED || how == RowRanges.LAUNCH && bits == 16) {
                    assertEquals(productsBefore + 1, mat.sharedProduct().products(), what + ": the chunks of one call share one whole product");
                    assertFalse(mat.sharedProduct().holding(), what + ": let go once every row went out");
                }
            }
            // an empty range writes nothing
            MemorySegment ys = arena.allocate(4L * m * n);
            ys.fill((byte) 0x7F);
            mat.matmul(in, ActivationBatch.wrap(ys, m, n), n / 2, n / 2);
            for (long i = 0; i < ys.byteSize(); i++) {
                assertEquals((byte) 0x7F, ys.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    static int realSplits(Dispatcher.Choice c, int k) {
        int g = FlexqKernels.groups(k);
        int gps = FlexqKernels.ceilDiv(g, Math.max(1, Math.min(c.splits(), g)));
        return FlexqKernels.ceilDiv(g, gps);
    }

    /** The CPU integer reference and its bound for other summation orders (GpuTestData). */
    static float[][] reference(FlexqWeights w, float[] x, int m, int k, int bits) {
        QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, ActivationMode.ofBits(bits, "test"));
        return GpuTestData.outputs(w, qa, GpuTestData.partials(w, qa));
    }

    /** Ragged chunks covering [0, n): sizes 1 .. n/3 + 1, mostly not multiples of 16, the last one what is left. */
    static List<int[]> chunks(SplittableRandom rnd, int n) {
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < n; ) {
            int to = Math.min(n, from + 1 + rnd.nextInt(n / 3 + 1));
            out.add(new int[] {from, to});
            from = to;
        }
        return out;
    }
}
