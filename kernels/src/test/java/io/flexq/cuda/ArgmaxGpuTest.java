package io.flexq.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The decoder's two-launch argmax against the host's rule, a left-to-right {@code >} scan (lowest index among equal
 * maxima, NaN never wins, a row of NaNs gives 0), on rows built to hit the split's edges: maxima repeated across
 * slices, NaNs, infinities, vocabularies smaller than the number of slices.
 */
@Tag("gpu")
class ArgmaxGpuTest extends GpuKernelTest {

    @ParameterizedTest(name = "M={0} n={1} case={2}")
    @CsvSource({"1, 128256, plain", "3, 128256, ties", "2, 32000, nan", "4, 512, ties", "2, 37, ties", "1, 5, allnan",
            "2, 1000, neginf", "5, 65537, ties"})
    void equalsTheHostScan(int m, int n, String kind) {
        SplittableRandom rnd = new SplittableRandom(7L * n + m + kind.hashCode());
        float[] logits = new float[m * n];
        for (int t = 0; t < m; t++) {
            for (int i = 0; i < n; i++) {
                float v = switch (kind) {
                    case "ties" -> rnd.nextInt(4);  // the maximum 3 occurs in many slices
                    case "nan" -> rnd.nextInt(3) == 0 ? Float.NaN : (float) rnd.nextGaussian();
                    case "allnan" -> Float.NaN;
                    case "neginf" -> Float.NEGATIVE_INFINITY;
                    default -> (float) rnd.nextGaussian();
                };
                logits[t * n + i] = v;
            }
            if (kind.equals("nan")) {
                logits[t * n] = Float.NaN;  // a NaN first must not be taken as the running maximum
            }
        }
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer l = device.alloc(4L * logits.length, "logits");
             DeviceBuffer parts = device.alloc(8L * m * DecoderKernels.ARGMAX_PARTS, "partials");
             DeviceBuffer ids = device.alloc(4L * m, "ids")) {
            l.upload(MemorySegment.ofArray(logits), 0);
            ids.fill(0xFF);
            new DecoderKernels(kernels).argmax(l.address(), m, n, parts.address(), ids.address());
            MemorySegment got = arena.allocate(4L * m, 4);
            ids.download(got, 0);
            for (int t = 0; t < m; t++) {
                assertEquals(hostScan(logits, t * n, n), got.getAtIndex(ValueLayout.JAVA_INT, t), "row " + t);
            }
        }
    }

    /** The host's rule, written out: the first index whose value beats every earlier one under {@code >}. */
    private static int hostScan(float[] a, int off, int n) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            float v = a[off + i];
            if (Float.isNaN(v)) {
                continue;
            }
            if (best < 0 || v > a[off + best]) {
                best = i;
            }
        }
        return Math.max(best, 0);
    }
}
