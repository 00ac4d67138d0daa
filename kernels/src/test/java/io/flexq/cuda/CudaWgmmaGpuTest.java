package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * hopper.cu's wgmma kernels (KernelSpec.WG, compute capability 9.0 only) launched through FlexqKernels against
 * the CPU reference (IntegerReference through GpuTestData): int32 group partials bit for bit ({@code _p} twins),
 * y bit for bit for the exact-epilogue kernels ({@code _x}) and within the contract's split-K bound
 * {@code G * 2^-22 * sum_g |P sw sa|} for the FMA epilogue (hopper.cu states the tighter (G + 1) * 2^-23, which
 * kernels/src/test/cuda/hopper_test.cu checks). Outputs are poisoned before each launch. Ragged N, M and K.
 */
@Tag("gpu")
class CudaWgmmaGpuTest extends GpuKernelTest {

    record Shape(int m, int n, int k, long seed) {
    }

    static Stream<Shape> shapes() {
        int[][] mnk = {{16, 128, 128}, {17, 200, 200}, {100, 3000, 777}, {255, 520, 1100}, {513, 1040, 2048}, {4096, 136, 384}};
        List<Shape> out = new ArrayList<>();
        for (int i = 0; i < mnk.length; i++) {
            out.add(new Shape(mnk[i][0], mnk[i][1], mnk[i][2], 9090L + i));
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void everyWgmmaKernelReproducesTheCpuReference(Shape s) {
        Assumptions.assumeTrue(device.computeCapability() == 90, () -> "skipped: wgmma kernels need compute capability 9.0, device has "
                + device.computeCapability());
        int m = s.m(), n = s.n(), k = s.k(), g = FlexqKernels.groups(k);
        FlexqWeights w = GpuTestData.weights("w", n, k, s.seed());
        float[] x = GpuTestData.activations(m, k, s.seed() * 31 + 7);
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer fq6 = device.alloc(w.fq6ByteSize(), "fq6");
             DeviceBuffer wWg = device.alloc(FlexqKernels.tileBytes(n, k), "WG tiles");
             DeviceBuffer ws = device.alloc(FlexqKernels.scaleTileBytes(n, k), "scale tiles");
             DeviceBuffer xd = device.alloc((long) m * k * 4, "x");
             DeviceBuffer a8 = device.alloc(FlexqKernels.actBytes(m, k), "act int8");
             DeviceBuffer sa = device.alloc(FlexqKernels.actScaleBytes(m, k), "act scales");
             DeviceBuffer y = device.alloc((long) m * n * 4, "y");
             DeviceBuffer p = device.alloc((long) m * n * g * 4, "partials")) {
            fq6.upload(MemorySegment.ofArray(w.toFq6Bytes()), 0);
            kernels.repackWg(fq6, n, k, wWg, ws);
            xd.upload(MemorySegment.ofArray(x), 0);
            for (int bits : new int[] {6, 8}) {
                ActivationMode mode = GpuTestData.mode(bits);
                QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, mode);
                sa.fill(0);
                kernels.quantize(bits, xd, k, m, k, a8, null, sa);
                int[] pRef = GpuTestData.partials(w, qa);
                float[][] yRef = GpuTestData.outputs(w, qa, pRef);
                for (KernelSpec spec : KernelSpec.WG) {
                    for (boolean withP : new boolean[] {true, false}) {
                        y.fill(0xFF);
                        p.fill(0xFF);
                        kernels.gemm(spec, 1, wWg, ws, a8, sa, y, withP ? p : null, m, n, k);
                        String what = spec.name() + (withP ? "_p" : "") + " A" + bits + " " + s;
                        if (withP) {
                            int[] got = download(p, (long) m * n * g, arena).toArray(ValueLayout.JAVA_INT);
                            for (int i = 0; i < got.length; i++) {
                                if (got[i] != pRef[i]) {
                                    failures.add(what + ": P[t=" + i / g / n + "][r=" + (i / g) % n + "][g=" + i % g + "] = " + got[i]
                                            + ", reference " + pRef[i]);
                                    break;
                                }
                            }
                        }
                        float[] gotY = download(y, (long) m * n, arena).toArray(ValueLayout.JAVA_FLOAT);
                        for (int i = 0; i < gotY.length; i++) {
                            boolean ok = spec.exactOutput() ? Float.floatToRawIntBits(gotY[i]) == Float.floatToRawIntBits(yRef[0][i])
                                    : Math.abs((double) gotY[i] - yRef[0][i]) <= yRef[1][i];
                            if (!ok) {
                                failures.add(what + ": y[t=" + i / n + "][r=" + i % n + "] = " + gotY[i] + ", reference " + yRef[0][i]
                                        + (spec.exactOutput() ? " (bit-exact expected)" : " (bound " + yRef[1][i] + ")"));
                                break;
                            }
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " mismatches (seed " + s.seed() + "):\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
    }

    /**
     * As the decoder launches them: on a stream of its own with programmatic dependent launch, the RMSNorm kernel that
     * writes the natural-order records (A8, fused quantizer), then the wgmma kernel that reads them with the I8 tiles,
     * again and again with no host wait between, alternating two inputs through one record buffer. Every product must
     * equal, bit for bit, the same sequence launched plainly. A norm over 4096 values per row in 512 blocks of 1024
     * threads runs in two waves, so the wgmma kernel can start while the second wave still writes records; the first
     * version of this test used the stand-alone quantizer as the producer and did not catch the missing wait (it passed
     * with the cubin before the fix); Ref27MGpuTest did (host-device KLD 0.33).
     */
    @Test
    void underProgrammaticLaunchTheWgmmaKernelsReadTheRecordsTheNormFinished() {
        Assumptions.assumeTrue(device.computeCapability() == 90, () -> "skipped: wgmma kernels need compute capability 9.0, device has "
                + device.computeCapability());
        int m = 512, n = 1024, k = 4096, reps = 6;
        FlexqWeights w = GpuTestData.weights("w", n, k, 4242L);
        float[] norm = GpuTestData.activations(1, k, 79L);
        int qbits = DecoderKernels.qbits(8, true);
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined();
             CudaStream stream = new CudaStream(device);
             DeviceBuffer fq6 = device.alloc(w.fq6ByteSize(), "fq6");
             DeviceBuffer wI8 = device.alloc(FlexqKernels.tileBytes(n, k), "I8 tiles");
             DeviceBuffer ws = device.alloc(FlexqKernels.scaleTileBytes(n, k), "scale tiles");
             DeviceBuffer x0 = device.alloc((long) m * k * 4, "x0");
             DeviceBuffer x1 = device.alloc((long) m * k * 4, "x1");
             DeviceBuffer nw = device.alloc((long) k * 4, "norm weight");
             DeviceBuffer xn = device.alloc((long) m * k * 4, "normed rows");
             DeviceBuffer a8 = device.alloc(FlexqKernels.actBytes(m, k), "act int8");
             DeviceBuffer sa = device.alloc(FlexqKernels.actScaleBytes(m, k), "act scales");
             DeviceBuffer y = device.alloc((long) reps * m * n * 4, "y")) {
            fq6.upload(MemorySegment.ofArray(w.toFq6Bytes()), 0);
            kernels.repack(fq6, n, k, null, wI8, ws);  // the decoder's form: I8 tiles with natural-order records
            x0.upload(MemorySegment.ofArray(GpuTestData.activations(m, k, 77L)), 0);
            x1.upload(MemorySegment.ofArray(GpuTestData.activations(m, k, 78L)), 0);
            nw.upload(MemorySegment.ofArray(norm), 0);
            device.synchronize(() -> "set-up");
            FlexqKernels plain = kernels.on(stream.handle()), pk = plain.programmatic();
            for (KernelSpec spec : KernelSpec.WG) {
                float[][] got = new float[2][];
                for (FlexqKernels kk : new FlexqKernels[] {plain, pk}) {
                    DecoderKernels d = new DecoderKernels(kk);
                    y.fill(0xFF);
                    device.synchronize(() -> "poison");
                    for (int r = 0; r < reps; r++) {
                        d.addRmsNorm(m, (r % 2 == 0 ? x0 : x1).address(), 0, k, nw.address(), 1e-5f, xn.address(), qbits, a8.address(),
                                sa.address());
                        DeviceBuffer yr = DeviceBuffer.borrowed(device, "y " + r, y.address() + (long) r * m * n * 4, (long) m * n * 4);
                        kk.gemm(spec, 1, wI8, ws, a8, sa, yr, null, m, n, k);
                    }
                    stream.synchronize(() -> spec.name() + (kk == pk ? " under programmatic launch" : ""));
                    got[kk == pk ? 1 : 0] = download(y, (long) reps * m * n, arena).toArray(ValueLayout.JAVA_FLOAT);
                }
                for (int r = 0; r < reps; r++) {
                    for (int i = r * m * n; i < (r + 1) * m * n; i++) {
                        if (Float.floatToRawIntBits(got[1][i]) != Float.floatToRawIntBits(got[0][i])) {
                            int j = i - r * m * n;
                            failures.add(spec.name() + " launch " + r + ": y[t=" + j / n + "][r=" + j % n + "] = " + got[1][i]
                                    + ", plain launches " + got[0][i]);
                            break;
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " programmatic launches differ from plain ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
    }

    private static MemorySegment download(DeviceBuffer b, long elements, Arena arena) {
        MemorySegment seg = arena.allocate(elements * 4, 16);
        b.download(seg, 0);
        return seg;
    }
}
