package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every GEMM/GEMV kernel and the device quantizer against the CPU reference (IntegerReference and
 * ActivationQuantizer of flexq-cpu), on random never-zero inputs:
 * <ul>
 *   <li>device activation codes, bit planes and scales equal the CPU quantizer's bit for bit;</li>
 *   <li>int32 group partials P equal the reference bit for bit (every kernel's {@code _p} twin);</li>
 *   <li>y equals the reference bit for bit when K is not split (same operations in the same order), and
 *       lies within the contract bound {@code groups * 2^-22 * sum_g |P sw sa|} when it is;</li>
 *   <li>outputs are poisoned (NaN / -1) before each launch, so an unwritten element fails.</li>
 * </ul>
 * Shapes sample N, K in 128 .. 28672 (K % 128 != 0 included) and M in 1 .. 4096, A6 and A8, both paths.
 */
@Tag("gpu")
class CudaKernelExactnessTest extends GpuKernelTest {

    record Shape(int m, int n, int k, long seed) {
    }

    static Stream<Shape> shapes() {
        int[][] mnk = {
                {1, 128, 128}, {1, 200, 200}, {5, 17, 200}, {3, 4096, 4173}, {2, 28672, 512}, {5, 256, 28672}, {8, 8192, 8192},
                {13, 2048, 2100}, {16, 4096, 4096}, {31, 512, 389}, {64, 1024, 1000}, {100, 3000, 777},
                {256, 1024, 4096}, {1024, 1024, 1280}, {4096, 256, 1100}, {4096, 128, 4096},
        };
        List<Shape> out = new ArrayList<>();
        for (int i = 0; i < mnk.length; i++) {
            out.add(new Shape(mnk[i][0], mnk[i][1], mnk[i][2], 4242L + i));
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void everyKernelReproducesTheCpuReference(Shape s) {
        int m = s.m(), n = s.n(), k = s.k(), g = FlexqKernels.groups(k);
        FlexqWeights w = GpuTestData.weights("w", n, k, s.seed());
        float[] x = GpuTestData.activations(m, k, s.seed() * 31 + 7);
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer fq6 = device.alloc(w.fq6ByteSize(), "fq6");
             DeviceBuffer wInt8 = device.alloc(FlexqKernels.tileBytes(n, k), "int8 tiles");
             DeviceBuffer wPlanes = device.alloc(FlexqKernels.tileBytes(n, k), "plane tiles");
             DeviceBuffer ws = device.alloc(FlexqKernels.scaleTileBytes(n, k), "scale tiles");
             DeviceBuffer xd = device.alloc((long) m * k * 4, "x");
             DeviceBuffer a8 = device.alloc(FlexqKernels.actBytes(m, k), "act int8");
             DeviceBuffer ap = device.alloc(FlexqKernels.actBytes(m, k), "act planes");
             DeviceBuffer sa = device.alloc(FlexqKernels.actScaleBytes(m, k), "act scales");
             DeviceBuffer y = device.alloc((long) m * n * 4, "y");
             DeviceBuffer p = device.alloc((long) m * n * g * 4, "partials")) {
            fq6.upload(MemorySegment.ofArray(w.toFq6Bytes()), 0);
            kernels.repack(fq6, n, k, wPlanes, wInt8, ws);
            xd.upload(MemorySegment.ofArray(x), 0);
            for (int bits : new int[] {6, 8}) {
                ActivationMode mode = GpuTestData.mode(bits);
                QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, mode);
                sa.fill(0);
                kernels.quantize(bits, xd, k, m, k, a8, ap, sa);
                checkQuantizer(qa, bits, a8, ap, sa, arena, s, failures);
                int[] pRef = GpuTestData.partials(w, qa);
                float[][] yRef = GpuTestData.outputs(w, qa, pRef);
                for (KernelSpec spec : KernelSpec.ALL) {
                    if (!spec.accepts(bits) || spec.ordered() && m > KernelSpec.ORDERED_MAX_TOKENS) {
                        continue;
                    }
                    for (int splits : spec.gemm() || spec.ordered() || g < 2 ? new int[] {1} : new int[] {1, 3}) {
                        for (boolean withP : new boolean[] {true, false}) {
                            y.fill(0xFF);
                            p.fill(0xFF);
                            DeviceBuffer wl = spec.path().planes() ? wPlanes : wInt8;
                            DeviceBuffer al = spec.path().planes() ? ap : a8;
                            kernels.gemm(spec, splits, wl, ws, al, sa, y, withP ? p : null, m, n, k);
                            String what = spec.name() + (withP ? "_p" : "") + " A" + bits + " splits=" + splits + " " + s;
                            if (withP) {
                                int[] got = download(p, (long) m * n * g, arena).toArray(ValueLayout.JAVA_INT);
                                compareInts(got, pRef, n, g, what, failures);
                            }
                            float[] gotY = download(y, (long) m * n, arena).toArray(ValueLayout.JAVA_FLOAT);
                            compareFloats(gotY, yRef[0], yRef[1], splits == 1 || spec.gemm() || spec.ordered(), n, what, failures);
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " mismatches (seed " + s.seed() + "):\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
    }

    private static MemorySegment download(DeviceBuffer b, long elements, Arena arena) {
        MemorySegment seg = arena.allocate(elements * 4, 16);
        b.download(seg, 0);
        return seg;
    }

    /** Device records against the CPU quantizer: int8 record byte tig*32+ks*8+h*4+b is code ks*32+h*16+tig*4+b. */
    private static void checkQuantizer(QuantizedActivations qa, int bits, DeviceBuffer a8, DeviceBuffer ap, DeviceBuffer sa, Arena arena,
                                       Shape s, List<String> failures) {
        int m = qa.tokens(), g = qa.groups(), ldsa = FlexqKernels.ldsa(m);
        byte[] i8 = download(a8, FlexqKernels.actBytes(m, qa.cols()) / 4, arena).toArray(ValueLayout.JAVA_BYTE);
        int[] planes = download(ap, FlexqKernels.actBytes(m, qa.cols()) / 4, arena).toArray(ValueLayout.JAVA_INT);
        float[] scales = download(sa, (long) g * ldsa, arena).toArray(ValueLayout.JAVA_FLOAT);
        int mask = bits == 6 ? 63 : 255;
        int bad = 0;
        for (int t = 0; t < m && bad < 5; t++) {
            for (int gg = 0; gg < g && bad < 5; gg++) {
                if (Float.floatToRawIntBits(scales[gg * ldsa + t]) != Float.floatToRawIntBits(qa.scale(t, gg))) {
                    failures.add("quantize A" + bits + " " + s + ": sa[t=" + t + "][g=" + gg + "] = " + scales[gg * ldsa + t] + ", reference " + qa.scale(t, gg));
                    bad++;
                }
                int rec = (t * g + gg) * 128;
                for (int kk = 0; kk < 128; kk++) {
                    int want = qa.code(t, gg * 128 + kk);
                    int ks = kk >> 5, h = (kk >> 4) & 1, tig = (kk >> 2) & 3, b = kk & 3;
                    int got = i8[rec + tig * 32 + ks * 8 + h * 4 + b];
                    int gotPlanes = 0;
                    for (int j = 0; j < 8; j++) {
                        gotPlanes |= ((planes[rec / 4 + (kk >> 5) * 8 + j] >>> (kk & 31)) & 1) << j;
                    }
                    if (got != want || gotPlanes != (want & mask)) {
                        failures.add("quantize A" + bits + " " + s + ": code[t=" + t + "][k=" + (gg * 128 + kk) + "] int8 " + got
                                + ", planes " + gotPlanes + ", reference " + want);
                        bad++;
                        break;
                    }
                }
            }
        }
    }

    private static void compareInts(int[] got, int[] want, int n, int g, String what, List<String> failures) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < got.length; i++) {
            if (got[i] != want[i]) {
                long bad = 0;
                for (int j = i; j < got.length; j++) {
                    bad += got[j] != want[j] ? 1 : 0;
                }
                failures.add(what + ": P[t=" + i / g / n + "][r=" + (i / g) % n + "][g=" + i % g + "] = " + got[i] + ", reference " + want[i]
                        + " (" + bad + " of " + got.length + " differ)");
                return;
            }
        }
    }

    private static void compareFloats(float[] got, float[] want, float[] bound, boolean exact, int n, String what, List<String> failures) {
        for (int i = 0; i < got.length; i++) {
            boolean ok = exact ? Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(want[i])
                    : Math.abs((double) got[i] - want[i]) <= bound[i];
            if (!ok) {
                failures.add(what + ": y[t=" + i / n + "][r=" + i % n + "] = " + got[i] + ", reference " + want[i]
                        + (exact ? " (bit-exact expected)" : " (bound " + bound[i] + ")"));
                return;
            }
        }
    }
}
