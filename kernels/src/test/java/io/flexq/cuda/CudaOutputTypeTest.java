package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fp16 / bf16 output twins of the INT8-MMA kernels. The fp32 y of each unsplit launch must equal the CPU
 * reference bit for bit (as in CudaKernelExactnessTest); then each 16-bit y must equal that reference rounded
 * on the host to nearest even: fp16 by {@link Float#floatToFloat16}, bf16 by the integer rounding written
 * below. Output buffers are poisoned with 0xFF (NaN in all three types) before every launch.
 */
@Tag("gpu")
class CudaOutputTypeTest extends GpuKernelTest {

    /** bf16 bits of {@code f} rounded to nearest, ties to even (f finite): add 0x7FFF plus the kept lsb, truncate. */
    static short bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
    }

    @ParameterizedTest(name = "M={0} N={1} K={2} A{3} seed={4}")
    @CsvSource({
            "1, 200, 1100, 6, 901", "1, 200, 1100, 8, 902",
            "16, 328, 640, 6, 903", "16, 328, 640, 8, 904",
            "300, 200, 1100, 6, 905", "300, 200, 1100, 8, 906",
    })
    void sixteenBitOutputsAreTheFp32OutputsRoundedToNearestEven(int m, int n, int k, int bits, long seed) {
        FlexqWeights w = GpuTestData.weights("w", n, k, seed);
        float[] x = GpuTestData.activations(m, k, seed * 31 + 7);
        QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k, GpuTestData.mode(bits));
        float[] yRef = GpuTestData.outputs(w, qa, GpuTestData.partials(w, qa))[0];
        List<String> failures = new ArrayList<>();
        int launches = 0, inexactF16 = 0, inexactBf16 = 0;
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer fq6 = device.alloc(w.fq6ByteSize(), "fq6");
             DeviceBuffer wInt8 = device.alloc(FlexqKernels.tileBytes(n, k), "int8 tiles");
             DeviceBuffer ws = device.alloc(FlexqKernels.scaleTileBytes(n, k), "scale tiles");
             DeviceBuffer xd = device.alloc((long) m * k * 4, "x");
             DeviceBuffer a8 = device.alloc(FlexqKernels.actBytes(m, k), "act int8");
             DeviceBuffer sa = device.alloc(FlexqKernels.actScaleBytes(m, k), "act scales");
             DeviceBuffer y = device.alloc((long) m * n * 4, "y")) {
            fq6.upload(MemorySegment.ofArray(w.toFq6Bytes()), 0);
            kernels.repack(fq6, n, k, null, wInt8, ws);
            xd.upload(MemorySegment.ofArray(x), 0);
            sa.fill(0);
            kernels.quantize(bits, xd, k, m, k, a8, null, sa);
            for (KernelSpec spec : KernelSpec.ALL) {
                if (!spec.hasOutputTwins() || spec.ordered() && m > KernelSpec.ORDERED_MAX_TOKENS) {
                    continue;
                }
                String base = spec.name() + " A" + bits + " M=" + m + " N=" + n + " K=" + k + " seed=" + seed;
                y.fill(0xFF);
                kernels.gemm(spec, 1, wInt8, ws, a8, sa, y, null, m, n, k, OutputType.F32);
                MemorySegment f32 = arena.allocate((long) m * n * 4, 16);
                y.download(f32, 0);
                float[] got32 = f32.toArray(ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < got32.length; i++) {
                    if (Float.floatToRawIntBits(got32[i]) != Float.floatToRawIntBits(yRef[i])) {
                        failures.add(base + " f32: y[t=" + i / n + "][r=" + i % n + "] = " + got32[i] + ", reference " + yRef[i]);
                        break;
                    }
                }
                for (OutputType out : new OutputType[] {OutputType.F16, OutputType.BF16}) {
                    y.fill(0xFF);
                    kernels.gemm(spec, 1, wInt8, ws, a8, sa, y, null, m, n, k, out);
                    launches++;
                    MemorySegment h = arena.allocate((long) m * n * 2, 16);
                    y.download(h, 0);
                    short[] got = h.toArray(ValueLayout.JAVA_SHORT);
                    for (int i = 0; i < got.length; i++) {
                        short want = out == OutputType.F16 ? Float.floatToFloat16(yRef[i]) : bf16(yRef[i]);
                        float back = out == OutputType.F16 ? Float.float16ToFloat(want) : Float.intBitsToFloat(want << 16);
                        if (back != yRef[i]) {
                            if (out == OutputType.F16) {
                                inexactF16++;
                            } else {
                                inexactBf16++;
                            }
                        }
                        if (got[i] != want) {
                            failures.add(base + " " + out + ": y[t=" + i / n + "][r=" + i % n + "] bits 0x" + Integer.toHexString(got[i] & 0xFFFF)
                                    + ", reference 0x" + Integer.toHexString(want & 0xFFFF) + " (fp32 " + yRef[i] + ")");
                            break;
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
        int twinKernels = (int) KernelSpec.ALL.stream().filter(KernelSpec::hasOutputTwins)
                .filter(spec -> !spec.ordered() || m <= KernelSpec.ORDERED_MAX_TOKENS).count();
        assertTrue(twinKernels >= 9 && launches == 2 * twinKernels, "expected " + twinKernels + " INT8-MMA kernels x 2 types, launched " + launches);
        // the rounding must actually have been exercised, else equality proves little
        assertTrue(inexactF16 > 0 && inexactBf16 > 0, "no inexact conversions: f16 " + inexactF16 + ", bf16 " + inexactBf16);
    }

    @Test
    void sixteenBitOutputRefusesSplitKPartialsAndBitPlaneKernels() {
        int m = 1, n = 32, k = 512;
        KernelSpec gemv = KernelSpec.byName("flexq_gemv_i8_nt1").orElseThrow();
        KernelSpec btc = KernelSpec.byName("flexq_gemv_btc_a6_nt1").orElseThrow();
        try (DeviceBuffer b = device.alloc(1 << 16, "dummy")) {
            IllegalArgumentException split = assertThrows(IllegalArgumentException.class,
                    () -> kernels.gemm(gemv, 2, b, b, b, b, b, null, m, n, k, OutputType.F16));
            assertTrue(split.getMessage().contains("unsplit"), split.getMessage());
            assertThrows(IllegalArgumentException.class, () -> kernels.gemm(gemv, 1, b, b, b, b, b, b, m, n, k, OutputType.BF16));
            assertThrows(IllegalArgumentException.class, () -> kernels.gemm(btc, 1, b, b, b, b, b, null, m, n, k, OutputType.F16));
        }
    }
}
