package io.flexq.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder's Q8_0 GEMV (the output head of a default {@code flexq quantize} file) against a float64 reference
 * computed here from the same codes and scales: {@code |y - y64| <= K * 2^-22 * sum |w x|} (fp32 products and sums
 * in some order), for token counts on both sides of its 8-token tiles, with the codes in the file's order and in the
 * lane order of its second kernel; and its fp16 copy (for batched forwards) equal
 * to each code times its scale rounded to fp16. The fp16-weight decode GEMV (an F16 model's matmuls of up to 8 rows)
 * against the same kind of reference.
 */
@Tag("gpu")
class DecodeGemvGpuTest extends GpuKernelTest {

    @ParameterizedTest(name = "M={0} N={1} K={2} lane order {3}")
    @CsvSource({"1, 1000, 4096, false", "3, 333, 512, false", "8, 128, 2048, false", "13, 77, 96, false", "2, 2601, 16384, false",
            "1, 1000, 4096, true", "3, 333, 512, true", "13, 128, 2048, true", "2, 2601, 16384, true", "4, 64, 1024, true"})
    void matchesAFloat64Reference(int m, int n, int k, boolean lanes) {
        SplittableRandom rnd = new SplittableRandom(31L * m + n + k);
        byte[] codes = new byte[n * k];
        short[] scales = new short[n * (k / 32)];
        float[] x = new float[m * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (rnd.nextInt(255) - 127);
        }
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Float.floatToFloat16((float) Math.scalb(1 + rnd.nextDouble(), -10 - rnd.nextInt(6)));
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
        }
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer q = device.alloc(codes.length, "codes");
             DeviceBuffer d = device.alloc(2L * scales.length, "scales");
             DeviceBuffer xd = device.alloc(4L * x.length, "x");
             DeviceBuffer y = device.alloc(4L * m * n, "y")) {
            q.upload(MemorySegment.ofArray(lanes ? laneOrderedCodes(codes, k) : codes), 0);
            d.upload(MemorySegment.ofArray(lanes ? laneOrderedScales(scales, k) : scales), 0);
            xd.upload(MemorySegment.ofArray(x), 0);
            y.fill(0xFF);
            if (lanes) {
                new DecoderKernels(kernels).q8GemvLanes(q.address(), d.address(), n, k, xd.address(), k, m, y.address());
            } else {
                new DecoderKernels(kernels).q8Gemv(q.address(), d.address(), n, k, xd.address(), k, m, y.address());
            }
            MemorySegment got = arena.allocate(4L * m * n, 16);
            y.download(got, 0);
            try (DeviceBuffer wide = device.alloc(2L * n * k, "fp16 copy")) {  // the copy batched forwards run
                new DecoderKernels(kernels).q8ToF16(q.address(), d.address(), n, k, lanes, wide.address());
                MemorySegment h = arena.allocate(2L * n * k, 16);
                wide.download(h, 0);
                for (int i = 0; i < n * k; i++) {
                    short want = Float.floatToFloat16(codes[i] * Float.float16ToFloat(scales[i / 32]));
                    int at = i;
                    assertTrue(h.getAtIndex(ValueLayout.JAVA_SHORT, i) == want, () -> "fp16 copy element " + at);
                }
            }
            for (int t = 0; t < m; t++) {
                for (int r = 0; r < n; r++) {
                    double ref = 0, mag = 0;
                    for (int c = 0; c < k; c++) {
                        double w = codes[r * k + c] * (double) Float.float16ToFloat(scales[r * (k / 32) + c / 32]);
                        ref += w * x[t * k + c];
                        mag += Math.abs(w * x[t * k + c]);
                    }
                    float v = got.getAtIndex(ValueLayout.JAVA_FLOAT, (long) t * n + r);
                    double bound = k * 0x1p-22 * mag + 1e-30, want = ref;
                    int tt = t, rr = r;
                    assertTrue(Math.abs(v - want) <= bound, () -> "y[" + tt + "][" + rr + "] = " + v + ", float64 " + want + ", bound " + bound);
                }
            }
        }
    }

    /** The codes of each row (k columns) moved to Q8Linear's lane order, four at a time, as DeviceUpload.head does. */
    private static byte[] laneOrderedCodes(byte[] codes, int k) {
        byte[] out = new byte[codes.length];
        for (int r = 0; r < codes.length / k; r++) {
            for (int c = 0; c < k; c += 4) {
                System.arraycopy(codes, r * k + c, out, r * k + Q8Linear.codeIndex(c), 4);
            }
        }
        return out;
    }

    private static short[] laneOrderedScales(short[] scales, int k) {
        short[] out = new short[scales.length];
        int per = k / 32;
        for (int r = 0; r < scales.length / per; r++) {
            for (int b = 0; b < per; b++) {
                out[r * per + Q8Linear.scaleIndex(b)] = scales[r * per + b];
            }
        }
        return out;
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"1, 1000, 4096", "5, 333, 520", "1, 4099, 14336", "13, 77, 96"})
    void f16GemvMatchesAFloat64Reference(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(17L * m + n + k);
        short[] w = new short[n * k];
        float[] x = new float[m * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = Float.floatToFloat16((float) (rnd.nextGaussian() * 0.05));
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * 2);
        }
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer wd = device.alloc(2L * w.length, "weights");
             DeviceBuffer xd = device.alloc(4L * x.length, "x");
             DeviceBuffer y = device.alloc(4L * m * n, "y")) {
            wd.upload(MemorySegment.ofArray(w), 0);
            xd.upload(MemorySegment.ofArray(x), 0);
            y.fill(0xFF);
            new DecoderKernels(kernels).floatGemv(wd.address(), true, n, k, xd.address(), k, m, y.address());
            MemorySegment got = arena.allocate(4L * m * n, 16);
            y.download(got, 0);
            for (int t = 0; t < m; t++) {
                for (int r = 0; r < n; r++) {
                    double ref = 0, mag = 0;
                    for (int c = 0; c < k; c++) {
                        double p = Float.float16ToFloat(w[r * k + c]) * (double) x[t * k + c];
                        ref += p;
                        mag += Math.abs(p);
                    }
                    float v = got.getAtIndex(ValueLayout.JAVA_FLOAT, (long) t * n + r);
                    double bound = k * 0x1p-22 * mag + 1e-30;
                    double want = ref;
                    int tt = t, rr = r;
                    assertTrue(Math.abs(v - want) <= bound, () -> "y[" + tt + "][" + rr + "] = " + v + ", float64 " + want + ", bound " + bound);
                }
            }
        }
    }
}
