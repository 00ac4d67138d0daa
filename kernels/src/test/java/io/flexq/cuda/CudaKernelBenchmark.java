package io.flexq.cuda;

import io.flexq.plugin.quant.Fq6Layout;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * GPU benchmark through JavaCPP (a main, not a test): for LLaMA-2 70B and 7B linear layers and M tokens,
 * the median time (CUDA events, warm-up first) of the activation quantizer and of the kernel the
 * dispatcher picks, for W6A6 and W6A8, beside cuBLAS FP16 and INT8 GEMM ({@code cublasGemmEx}). Weights
 * are rotated among copies totalling over 256 MB (L2 is 60 MB) so each run reads them from HBM.
 * Exactness of the same kernels is CudaKernelExactnessTest's job.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp ... io.flexq.cuda.CudaKernelBenchmark [out.csv] [shape filter] [M,M,...]</pre>
 */
public final class CudaKernelBenchmark {

    record Shape(String name, int n, int k) {
    }

    static final List<Shape> SHAPES = List.of(
            new Shape("70B-qkv", 10240, 8192), new Shape("70B-o", 8192, 8192), new Shape("70B-gateup", 57344, 8192),
            new Shape("70B-down", 8192, 28672), new Shape("7B-qkv", 12288, 4096), new Shape("7B-o", 4096, 4096),
            new Shape("7B-gateup", 22016, 4096), new Shape("7B-down", 4096, 11008),
            new Shape("8B-qkv", 6144, 4096), new Shape("8B-o", 4096, 4096), new Shape("8B-gateup", 28672, 4096),
            new Shape("8B-down", 4096, 14336));
    static final int[] MS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096};

    public static void main(String[] args) throws IOException {
        Path csvPath = Path.of(args.length > 0 ? args[0] : "cuda-bench-java.csv");
        String filter = args.length > 1 ? args[1] : "";
        int[] ms = args.length > 2 ? Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray() : MS;
        GpuTestDataCheck.requireGpu();
        List<String> csv = new ArrayList<>();
        csv.add("# " + Instant.now() + " java " + Runtime.version());
        csv.add("shape,N,K,M,kernel,abits,splits,us,TOPS,weight_GBps");
        PrintStream out = System.out;
        try (CudaDevice dev = CudaDevice.open(0); CudaTimer timer = new CudaTimer(dev, 64); CublasGemm blas = new CublasGemm(dev)) {
            FlexqKernels k = dev.kernels();
            Dispatcher dispatcher = Dispatcher.forDevice(dev.computeCapability(), dev.smCount());
            out.println(dev.describe() + "; kernels from " + k.origin());
            csv.add("# " + dev.describe());
            for (Shape s : SHAPES) {
                if (!s.name.contains(filter)) {
                    continue;
                }
                int n = s.n, kk = s.k, g = FlexqKernels.groups(kk);
                double weightBytes = (double) Fq6Layout.byteSize(n, kk);
                int copies = (int) Math.max(2, Math.min(16, Math.ceil(256e6 / weightBytes)));
                int f16Copies = (int) Math.max(1, Math.min(8, Math.ceil(256e6 / (2.0 * n * kk))));
                List<DeviceBuffer> owned = new ArrayList<>();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment fq6 = randomFq6(arena, n, kk, 11);
                    DeviceBuffer raw = track(owned, dev.alloc(fq6.byteSize(), "fq6"));
                    raw.upload(fq6, 0);
                    DeviceBuffer[] w8 = new DeviceBuffer[copies], ws = new DeviceBuffer[copies];
                    for (int c = 0; c < copies; c++) {
                        w8[c] = track(owned, dev.alloc(FlexqKernels.tileBytes(n, kk), "int8 tiles " + c));
                        ws[c] = track(owned, dev.alloc(FlexqKernels.scaleTileBytes(n, kk), "scales " + c));
                        k.repack(raw, n, kk, null, w8[c], ws[c]);
                    }
                    DeviceBuffer[] wf16 = new DeviceBuffer[f16Copies], wi8 = new DeviceBuffer[f16Copies];
                    for (int c = 0; c < f16Copies; c++) {
                        wf16[c] = track(owned, dev.alloc(2L * n * kk, "fp16 weights " + c));
                        wf16[c].upload(randomHalves(arena, (long) n * kk, 20 + c), 0);
                        wi8[c] = track(owned, dev.alloc((long) n * kk, "int8 weights " + c));
                        wi8[c].upload(randomBytes(arena, (long) n * kk, 40 + c), 0);
                    }
                    int mMax = Arrays.stream(ms).max().orElseThrow();
                    DeviceBuffer x = track(owned, dev.alloc((long) mMax * kk * 4, "x"));
                    x.upload(randomFloats(arena, (long) mMax * kk, 3), 0);
                    DeviceBuffer xf16 = track(owned, dev.alloc(2L * mMax * kk, "x fp16"));
                    xf16.upload(randomHalves(arena, (long) mMax * kk, 4), 0);
                    DeviceBuffer xi8 = track(owned, dev.alloc((long) mMax * kk, "x int8"));
                    xi8.upload(randomBytes(arena, (long) mMax * kk, 5), 0);
                    DeviceBuffer act = track(owned, dev.alloc(FlexqKernels.actBytes(mMax, kk), "act"));
                    DeviceBuffer sa = track(owned, dev.alloc(FlexqKernels.actScaleBytes(mMax, kk), "sa"));
                    DeviceBuffer y = track(owned, dev.alloc(4L * mMax * n, "y"));
                    dev.synchronize(() -> "benchmark setup " + s);
                    out.printf("%s N=%d K=%d: %.1f MB FQ6 x %d copies%n", s.name, n, kk, weightBytes / 1e6, copies);
                    for (int m : ms) {
                        int runs = m >= 1024 ? 20 : 50;
                        double ops = 2.0 * m * n * kk;
                        Row row = (kernel, bits, splits, us) -> {
                            String line = String.format("%s,%d,%d,%d,%s,%d,%d,%.3f,%.3f,%.1f", s.name, n, kk, m, kernel, bits, splits, us,
                                    ops / us / 1e6, weightBytes / us / 1e3);
                            csv.add(line);
                            out.println("  " + line);
                        };
                        int[] st = {0};
                        double fp16 = timer.medianMicros(3, runs, i -> st[0] |= blas.fp16(wf16[i % f16Copies], xf16, y, m, n, kk));
                        row.add("cublas_fp16" + (st[0] != 0 ? "(status " + st[0] + ")" : ""), 16, 1, fp16);
                        st[0] = 0;
                        double int8 = timer.medianMicros(3, runs, i -> st[0] |= blas.int8(wi8[i % f16Copies], xi8, y, m, n, kk));
                        row.add("cublas_int8" + (st[0] != 0 ? "(status " + st[0] + ")" : ""), 8, 1, int8);
                        for (int bits : new int[] {6, 8}) {
                            double q = timer.medianMicros(3, runs, i -> k.quantize(bits, x, kk, m, kk, act, null, sa));
                            row.add("quantize_int8", bits, 1, q);
                            Dispatcher.Choice c = dispatcher.choose(m, n, kk, bits);
                            if (c.spec().path().planes()) {
                                continue;  // the benchmark keeps int8 tiles only; the C++ harness measures the plane kernels
                            }
                            double t = timer.medianMicros(3, runs, i -> k.gemm(c.spec(), c.splits(), w8[i % copies], ws[i % copies], act, sa, y, null, m, n, kk));
                            row.add(c.spec().name(), bits, c.splits(), t);
                            double both = timer.medianMicros(3, runs, i -> {
                                k.quantize(bits, x, kk, m, kk, act, null, sa);
                                k.gemm(c.spec(), c.splits(), w8[i % copies], ws[i % copies], act, sa, y, null, m, n, kk);
                            });
                            row.add("quantize+" + c.spec().name(), bits, c.splits(), both);
                        }
                    }
                } finally {
                    owned.forEach(DeviceBuffer::close);
                }
                Files.write(csvPath, csv);
            }
        }
        Files.write(csvPath, csv);
        out.println("wrote " + csvPath);
    }

    interface Row {
        void add(String kernel, int bits, int splits, double us);
    }

    private static DeviceBuffer track(List<DeviceBuffer> owned, DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    /** Random FQ6 bytes: any 6-bit pattern is a valid code (K here is a multiple of 128: no padding), scales positive normal fp16. */
    static MemorySegment randomFq6(Arena arena, int rows, int cols, long seed) {
        MemorySegment seg = randomBytes(arena, Fq6Layout.byteSize(rows, cols), seed);
        long base = Fq6Layout.codesBytes(rows, cols);
        SplittableRandom rnd = new SplittableRandom(seed + 1);
        for (long i = base; i < seg.byteSize(); i += 2) {
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (((3 + rnd.nextInt(9)) << 10) | rnd.nextInt(1024)));
        }
        return seg;
    }

    static MemorySegment randomBytes(Arena arena, long n, long seed) {
        MemorySegment seg = arena.allocate(n, 16);
        SplittableRandom rnd = new SplittableRandom(seed);
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong() & 0x1F1F1F1F1F1F1F1FL);  // small int8 values, any 6-bit code
        }
        for (; i < n; i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(32));
        }
        return seg;
    }

    static MemorySegment randomHalves(Arena arena, long n, long seed) {
        MemorySegment seg = arena.allocate(2 * n, 16);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, (short) ((rnd.nextInt(2) << 15) | ((10 + rnd.nextInt(5)) << 10) | rnd.nextInt(1024)));
        }
        return seg;
    }

    static MemorySegment randomFloats(Arena arena, long n, long seed) {
        MemorySegment seg = arena.allocate(4 * n, 16);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            float v = 0.01f + 0.99f * (float) rnd.nextDouble();
            seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i, rnd.nextBoolean() ? v : -v);
        }
        return seg;
    }

    /** The benchmark needs a GPU; without one it says why and exits with status 2. */
    static final class GpuTestDataCheck {
        static void requireGpu() {
            var a = CudaProbe.probe(0);
            if (!a.available()) {
                System.err.println("CudaKernelBenchmark needs a GPU: " + a.reason());
                System.exit(2);
            }
        }
    }
}
