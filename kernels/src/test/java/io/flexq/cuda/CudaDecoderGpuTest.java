package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.Quantizers;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole model on the GPU ({@link CudaDecoderOffload}) against the host path on the same file: greedy tokens
 * equal, or the first divergence falls where the host's top two logits are within the stated float bound; logits
 * within a bound; batched decode equal to one-by-one decode; graph replay equal to direct launches; no device memory
 * growth over many steps.
 *
 * <p>Bounds: the device keeps K/V in fp16 and sums in other orders, so logits differ by rounding: on stories260K
 * (F32) at most 0.05 (measured 0.022 on an H100). With A6/A8 activations such a rounding difference can move an
 * activation code by one step, which moves logits more (measured up to 0.71 on the tiny stories260K, whose 64-wide
 * rows give each code a large weight; mean KLD 6e-4, top-1 agreement 158/160, on an H100), so FQ6 is held to
 * max |dlogit| <= 1.0 (A8) and a mean KL divergence from the host's
 * distributions far below the quantization's own (FQ6 W6A8 vs F32 on this model, WikiText-2: 0.026, bench/results/quality-stories260K.md). A6 steps are 127/31 ~ 4x
 * coarser, so a flip is ~4x likelier and ~4x larger: measured max |dlogit| 2.10, mean KLD 0.0094, top-1 151/160 (H100);
 * held to 3.0 and 0.02, still far below W6A6's own error on this model (KLD 0.059 vs F32, bench/results/quality-stories260K.md).
 */
@Tag("gpu")
class CudaDecoderGpuTest {

    private static final List<String> LOG = new ArrayList<>();

    @BeforeEach
    void needsGpu() {
        GpuTestData.assumeGpu();
    }

    static TensorTypes types() {
        return BuiltinTypes.registry(CudaDecoderGpuTest.class.getClassLoader());
    }

    static Llama host(ModelFile f) {
        return Llama.load(f, Backends.discover(CudaDecoderGpuTest.class.getClassLoader(), LOG::add), List.of(), LOG::add);
    }

    static Llama device(ModelFile f) {
        Llama l = Llama.load(f, Backends.discover(CudaDecoderGpuTest.class.getClassLoader(), LOG::add),
                List.<DecoderOffload>of(new CudaDecoderOffload()), LOG::add);
        assertTrue(l.onDevice(), "the model should run on the device: " + LOG);
        return l;
    }

    /** Writes stories260K with every block linear as FQ6 (clipping search) at the given activation bits. */
    static Path fq6(Path dir, ActivationMode mode) throws Exception {
        Path out = dir.resolve("stories260K-fq6-a" + mode.bits() + ".gguf");
        TensorTypes types = types();
        TensorType fq6 = types.require(Fq6Layout.TYPE_ID, "FQ6");
        try (GgufFile src = GgufFile.open(SharedData.require("models/stories260K-f32.gguf"), types)) {
            GgufWriter w = new GgufWriter();
            w.putAll(src);
            // the keys every reader of FQ6 tensors checks (Fq6Header): a file without them is refused
            w.put(io.flexq.plugin.fq6.Fq6Keys.VERSION, GgufType.UINT32, (long) io.flexq.plugin.fq6.Fq6Keys.FORMAT_VERSION);
            w.put(io.flexq.plugin.fq6.Fq6Keys.GROUP_SIZE, GgufType.UINT32, 128L);
            for (TensorEntry t : src.tensors().values()) {
                if (t.name().startsWith("blk.") && t.ne().length == 2) {
                    int cols = Math.toIntExact(t.cols()), rows = Math.toIntExact(t.rows());
                    float[] f = Quantizers.dequantize(t.type(), t.data(), rows, cols);
                    byte[] b = WeightQuantizer.clipping().quantize(t.name(), f, rows, cols).weights().toFq6Bytes();
                    w.addTensor(t.name(), fq6, t.ne(), MemorySegment.ofArray(b));
                    w.put(ActivationMode.metadataKey(t.name()), GgufType.UINT32, (long) mode.bits());
                } else {
                    w.addTensor(t);
                }
            }
            w.write(out);
        }
        return out;
    }

    /** Logits of both paths, teacher-forced with the host's greedy tokens, and the device's own greedy ids. */
    record Pair(int[] hostTokens, int[] deviceTokens, List<float[]> host, List<float[]> device) {
    }

    static Pair run(Llama h, Llama d, int steps) {
        int[] ht = new int[steps], dt = new int[steps];
        List<float[]> hl = new ArrayList<>(), dl = new ArrayList<>();
        try (LlamaSession hs = h.newSession(steps + 1); LlamaSession ds = d.newSession(steps + 1); LlamaSession dg = d.newSession(steps + 1)) {
            int next = 1, dnext = 1;
            for (int i = 0; i < steps; i++) {
                float[] a = hs.forward(new int[]{next}, 0, 1);
                float[] b = ds.forward(new int[]{next}, 0, 1);
                hl.add(a);
                dl.add(b);
                next = argmax(a);
                ht[i] = next;
                dnext = dg.forwardGreedy(new int[]{dnext}, 0, 1);  // the device's own argmax, only the id comes back
                dt[i] = dnext;
            }
        }
        return new Pair(ht, dt, hl, dl);
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[b]) {
                b = i;
            }
        }
        return b;
    }

    static float margin(float[] a) {
        int b = argmax(a);
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < a.length; i++) {
            if (i != b) {
                second = Math.max(second, a[i]);
            }
        }
        return a[b] - second;
    }

    static double kld(float[] p, float[] q) {
        double mp = Double.NEGATIVE_INFINITY, mq = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < p.length; i++) {
            mp = Math.max(mp, p[i]);
            mq = Math.max(mq, q[i]);
        }
        double zp = 0, zq = 0;
        for (int i = 0; i < p.length; i++) {
            zp += Math.exp(p[i] - mp);
            zq += Math.exp(q[i] - mq);
        }
        double k = 0;
        for (int i = 0; i < p.length; i++) {
            double lp = p[i] - mp - Math.log(zp), lq = q[i] - mq - Math.log(zq);
            k += Math.exp(lp) * (lp - lq);
        }
        return Math.max(0, k);
    }

    /**
     * Asserts the device path against the host path: max |dlogit| <= logitBound and mean KL(host || device) <= kldBound
     * over the teacher-forced steps; the device's own greedy ids equal the host's up to the first step where the host's
     * top-2 margin is below 2 x the observed max |dlogit| (a flip there is within rounding: each logit moved by at
     * most that much), and there must be such an explanation for any divergence.
     */
    static void compare(String what, Pair r, double logitBound, double kldBound) {
        double worst = 0, kl = 0;
        int agree = 0;
        for (int i = 0; i < r.host.size(); i++) {
            float[] a = r.host.get(i), b = r.device.get(i);
            for (int v = 0; v < a.length; v++) {
                worst = Math.max(worst, Math.abs(a[v] - b[v]));
            }
            kl += kld(a, b);
            agree += argmax(a) == argmax(b) ? 1 : 0;
        }
        int n = r.host.size();
        kl /= n;
        int i = 0;
        while (i < n && r.hostTokens[i] == r.deviceTokens[i]) {
            i++;
        }
        System.out.printf("[decoder] %s: %d steps teacher-forced: max |dlogit| %.3g, mean KLD %.3g, top-1 agreement %d/%d; "
                        + "free greedy ids equal for %d of %d steps%s%n", what, n, worst, kl, agree, n, i, n,
                i < n ? String.format(", host top-2 margin at step %d: %.3g", i, margin(r.host.get(i))) : "");
        assertTrue(worst <= logitBound, what + ": max |dlogit| " + worst + " > " + logitBound);
        assertTrue(kl <= kldBound, what + ": mean KLD " + kl + " > " + kldBound);
        if (i < n) {
            float m = margin(r.host.get(i));
            assertTrue(m < 2 * worst, what + ": free greedy ids diverge at step " + i + " where the host's top-2 margin " + m
                    + " exceeds 2 x max |dlogit| (" + 2 * worst + "): host " + Arrays.toString(Arrays.copyOf(r.hostTokens, i + 1))
                    + " device " + Arrays.toString(Arrays.copyOf(r.deviceTokens, i + 1)));
        }
    }

    @Test
    void stories260KF32RunsOnTheDeviceAsOnTheHost() throws Exception {
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), types());
             Llama h = host(f); Llama d = device(f)) {
            compare("stories260K F32", run(h, d, 160), 0.05, 1e-4);
        }
    }

    @Test
    void fq6W6A8AndW6A6RunOnTheDeviceAsOnTheHost(@TempDir Path dir) throws Exception {
        for (ActivationMode mode : new ActivationMode[]{ActivationMode.A8, ActivationMode.A6}) {
            Path p = fq6(dir, mode);
            try (ModelFile f = ModelFiles.open(p, types()); Llama h = host(f); Llama d = device(f)) {
                assertTrue(d.describe().getFirst().contains("FQ6 W6A" + mode.bits()), d.describe().getFirst());
                boolean a8 = mode == ActivationMode.A8;
                compare("stories260K FQ6 W6" + mode, run(h, d, 160), a8 ? 1.0 : 3.0, a8 ? 2e-3 : 2e-2);
            }
        }
    }

    /**
     * Decode steps (up to 8 rows) fold RoPE + the cache store into the qkv matmul's epilogue and, where o and down run
     * the ordered GEMV, the residual add into theirs, with RMSNorm from the sums of squares those epilogues leave
     * (CudaModel). RoPE does the same fp32 operations on the same values; the norm sums the same squares in another
     * order (double), so logits and ids are compared to the separate kernels' within rounding: bit for bit where the
     * norm's float scale comes out the same, which it does unless a double sum lies on a float rounding boundary.
     */
    @Test
    void fusedDecodeKernelsEqualTheSeparateOnesBitForBit(@TempDir Path dir) throws Exception {
        for (ActivationMode mode : new ActivationMode[]{ActivationMode.A8, ActivationMode.A6}) {
            Path p = fq6(dir, mode);
            List<float[]> separate = new ArrayList<>(), fused = new ArrayList<>();
            int[][] separateIds = new int[8][], fusedIds = new int[8][];
            for (boolean fuse : new boolean[]{false, true}) {
                System.setProperty("flexq.cuda.fuseRope", String.valueOf(fuse));
                System.setProperty("flexq.cuda.fuseNorm", String.valueOf(fuse));
                System.setProperty("flexq.cuda.preloadCache", String.valueOf(fuse));
                try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f)) {
                    List<float[]> out = fuse ? fused : separate;
                    try (LlamaSession s = d.newSession(64)) {
                        int next = 1;
                        for (int i = 0; i < 40; i++) {
                            float[] logits = s.forward(new int[]{next}, 0, 1);
                            out.add(logits);
                            next = fuse ? argmax(separate.get(i)) : argmax(logits);  // the same inputs in both runs
                        }
                    }
                    LlamaSession[] ss = {d.newSession(64), d.newSession(64)};
                    try {
                        int[] next = {ss[0].forwardGreedy(new int[]{1, 50, 60}, 0, 3), ss[1].forwardGreedy(new int[]{1, 7}, 0, 2)};
                        for (int step = 0; step < 8; step++) {
                            next = d.decodeGreedy(ss, next);
                            (fuse ? fusedIds : separateIds)[step] = next.clone();
                        }
                    } finally {
                        for (LlamaSession s : ss) {
                            s.close();
                        }
                    }
                } finally {
                    System.clearProperty("flexq.cuda.fuseRope");
                    System.clearProperty("flexq.cuda.fuseNorm");
                    System.clearProperty("flexq.cuda.preloadCache");
                }
            }
            for (int i = 0; i < separate.size(); i++) {
                float[] a = separate.get(i), b = fused.get(i);
                for (int v = 0; v < a.length; v++) {
                    int step = i, at = v;
                    assertEquals(Float.floatToRawIntBits(a[v]), Float.floatToRawIntBits(b[v]),
                            () -> mode + " step " + step + " logit " + at + ": separate " + a[at] + ", fused " + b[at]);
                }
            }
            for (int step = 0; step < 8; step++) {
                assertArrayEquals(separateIds[step], fusedIds[step], mode + " batched step " + step);
            }
            System.out.println("[decoder] fused decode kernels equal the separate ones bit for bit, " + mode);
        }
    }

    /**
     * On Hopper a prompt's matmuls of 32 rows and more take the wgmma kernels where dispatch-sm90-wg.tsv measured them
     * faster (Dispatcher.wgmma): the same I8 weight tiles, natural-order records written by the norm, attention-merge
     * and SwiGLU kernels (or quantized again where a consumer wants the other order, LayerInput). A 200-token prompt in
     * one forward: logits within the FQ6 bounds of the one-token test against the host, and not bit for bit those of
     * the INT8-MMA kernels ({@code -Dflexq.cuda.wgmma=false}), which proves the wgmma path ran: its FMA epilogue rounds
     * otherwise than their exact one (hopper.cu), and over 200 x 512 logits some of them move.
     */
    @Test
    void aPromptOnHopperTakesTheWgmmaKernelsWithinTheBounds(@TempDir Path dir) throws Exception {
        try (CudaDevice dev = CudaDevice.open(0)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(dev.computeCapability() == 90,
                    () -> "skipped: the wgmma kernels need compute capability 9.0, device has " + dev.computeCapability());
        }
        int[] prompt = new int[200];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 1 + (i * 53) % 500;
        }
        for (ActivationMode mode : new ActivationMode[]{ActivationMode.A8, ActivationMode.A6}) {
            Path p = fq6(dir, mode);
            float[][] host, wg, mma;
            try (ModelFile f = ModelFiles.open(p, types()); Llama h = host(f); LlamaSession s = h.newSession(256, 256)) {
                host = s.forwardAll(prompt, 0, prompt.length);
            }
            try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f); LlamaSession s = d.newSession(256, 256)) {
                wg = s.forwardAll(prompt, 0, prompt.length);
            }
            System.setProperty("flexq.cuda.wgmma", "false");
            try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f); LlamaSession s = d.newSession(256, 256)) {
                mma = s.forwardAll(prompt, 0, prompt.length);
            } finally {
                System.clearProperty("flexq.cuda.wgmma");
            }
            boolean a8 = mode == ActivationMode.A8;
            double worst = 0, kl = 0, worstMma = 0;
            long differ = 0;
            for (int t = 0; t < prompt.length; t++) {
                for (int v = 0; v < host[t].length; v++) {
                    worst = Math.max(worst, Math.abs(host[t][v] - wg[t][v]));
                    worstMma = Math.max(worstMma, Math.abs(host[t][v] - mma[t][v]));
                    differ += Float.floatToRawIntBits(wg[t][v]) != Float.floatToRawIntBits(mma[t][v]) ? 1 : 0;
                }
                kl += kld(host[t], wg[t]) / prompt.length;
            }
            System.out.printf("[decoder] 200-token FQ6 W6%s prompt: wgmma max |dlogit| %.3g (INT8-MMA kernels %.3g), mean KLD %.3g, %d of %d logits differ from the INT8-MMA run%n",
                    mode, worst, worstMma, kl, differ, (long) prompt.length * host[0].length);
            assertTrue(worst <= (a8 ? 1.0 : 3.0), mode + " max |dlogit| " + worst);
            assertTrue(kl <= (a8 ? 2e-3 : 2e-2), mode + " mean KLD " + kl);
            assertTrue(differ > 0, mode + ": the logits equal the INT8-MMA kernels' bit for bit, so the wgmma path did not run");
        }
    }

    @Test
    void aLongPromptCrossesAttentionChunksAndCacheGrowth() throws Exception {
        try (ModelFile f = ModelFiles.open(SharedData.require("models/stories260K-f32.gguf"), types());
             Llama h = host(f); Llama d = device(f);
             LlamaSession hs = h.newSession(400, 64); LlamaSession ds = d.newSession(400, 64)) {
            int[] prompt = new int[300];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (i * 37) % 500;
            }
            float[][] a = hs.forwardAll(prompt, 0, prompt.length);
            float[][] b = ds.forwardAll(prompt, 0, prompt.length);
            double worst = 0;
            for (int t = 0; t < a.length; t++) {
                for (int v = 0; v < a[t].length; v++) {
                    worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
                }
            }
            System.out.printf("[decoder] 300-token prompt in chunks of 64 (3 attention chunks, cache grown past 256): max |dlogit| %.3g%n", worst);
            assertTrue(worst <= 0.05, "max |dlogit| " + worst);
            assertEquals(hs.forwardGreedy(new int[]{7}, 0, 1), ds.forwardGreedy(new int[]{7}, 0, 1));
        }
    }

    @Test
    void aBatchedStepEqualsEachSequenceAloneAndGraphsEqualDirectLaunches(@TempDir Path dir) throws Exception {
        Path p = fq6(dir, ActivationMode.A8);
        int[][] prompts = {{1, 50, 60}, {1, 300}, {1, 7, 8, 9, 10}, {1}};
        int[][] alone = new int[prompts.length][12];
        try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f)) {
            for (int i = 0; i < prompts.length; i++) {
                try (LlamaSession s = d.newSession(64)) {
                    int next = s.forwardGreedy(prompts[i], 0, prompts[i].length);
                    for (int step = 0; step < 12; step++) {
                        alone[i][step] = next;
                        next = s.forwardGreedy(new int[]{next}, 0, 1);
                    }
                }
            }
            LlamaSession[] ss = new LlamaSession[prompts.length];
            int[] next = new int[prompts.length];
            for (int i = 0; i < prompts.length; i++) {
                ss[i] = d.newSession(64);
                next[i] = ss[i].forwardGreedy(prompts[i], 0, prompts[i].length);
            }
            for (int step = 0; step < 12; step++) {
                for (int i = 0; i < prompts.length; i++) {
                    assertEquals(alone[i][step], next[i], "sequence " + i + " step " + step);
                }
                next = d.decodeGreedy(ss, next);
            }
            for (LlamaSession s : ss) {
                s.close();
            }
        }
        System.setProperty("flexq.cuda.noGraphs", "true");
        try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f); LlamaSession s = d.newSession(64)) {
            assertTrue(d.describe().getFirst().contains("no graphs"), d.describe().getFirst());
            int next = s.forwardGreedy(prompts[0], 0, prompts[0].length);
            for (int step = 0; step < 12; step++) {
                assertEquals(alone[0][step], next, "direct launches, step " + step);
                next = s.forwardGreedy(new int[]{next}, 0, 1);
            }
        } finally {
            System.clearProperty("flexq.cuda.noGraphs");
        }
    }

    @Test
    void tenThousandTokensLeaveDeviceAndHostMemoryFlat(@TempDir Path dir) throws Exception {
        Path p = fq6(dir, ActivationMode.A8);
        try (ModelFile f = ModelFiles.open(p, types()); Llama d = device(f)) {
            long[] before = null;
            long heap1 = 0, rss1 = 0;
            for (int round = 0; round < 20; round++) {  // 20 sessions x 500 generated tokens
                try (LlamaSession s = d.newSession(512)) {
                    int next = s.forwardGreedy(new int[]{1}, 0, 1);
                    for (int i = 0; i < 500; i++) {
                        next = s.forwardGreedy(new int[]{next}, 0, 1);
                    }
                }
                try (CudaDevice dev = CudaDevice.open(0)) {
                    long[] now = dev.memoryInfo();
                    System.gc();
                    long heap = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
                    long rss = rssBytes();
                    if (round == 1) {
                        before = now;
                        heap1 = heap;
                        rss1 = rss;
                    } else if (round > 1) {
                        assertEquals(before[0], now[0], "free device memory after round " + round);
                    }
                    if (round == 19) {
                        System.out.printf("[decoder] soak: 10,000 tokens in 20 sessions; device free %d -> %d bytes, heap after GC %d -> %d,"
                                + " RSS %d -> %d%n", before[0], now[0], heap1, heap, rss1, rss);
                        assertTrue(heap < heap1 + (16 << 20), "heap grew from " + heap1 + " to " + heap);
                        assertTrue(rss < rss1 + (64 << 20), "RSS grew from " + rss1 + " to " + rss);
                    }
                }
            }
        }
    }

    private static long rssBytes() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    @Test
    void theLlama2cCheckpointRunsOnTheDeviceAndTheLogSaysSo() throws Exception {
        Path bin = SharedData.require("models/stories260K.bin");
        assertTrue(Files.exists(bin));
        try (ModelFile f = ModelFiles.open(bin, types())) {
            // the llama2.c stories260K has head size 8 and 2 query heads per kv head: supported; check the positive case logs
            List<String> log = new ArrayList<>();
            try (Llama d = Llama.load(f, Backends.discover(getClass().getClassLoader(), log::add), List.of(new CudaDecoderOffload()), log::add)) {
                assertTrue(log.stream().anyMatch(l -> l.startsWith("model runs on flexq-cuda")), log.toString());
            }
        }
    }
}
