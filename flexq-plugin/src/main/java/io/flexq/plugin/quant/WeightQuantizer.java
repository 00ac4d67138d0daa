package io.flexq.plugin.quant;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * INT6 weight quantizer, one scale per (output row, 128-group) (docs/FQ6.md, section 2).
 *
 * <pre>
 *   RTN:       s = fp16(absmax / 31)
 *   clipping:  s = fp16((alpha * absmax) / 31), alpha over a grid, minimising sum (w - code * sw)^2
 *   codes:     code = clamp(roundHalfAwayFromZero(w / sw), -32, 31), sw = fp32(s); 0 if sw == 0
 * </pre>
 *
 * The grid always starts with {@code alpha = 1} (RTN) and a smaller alpha wins only if strictly better,
 * so clipping is never worse than RTN on any group. Rows are quantized in parallel (common fork-join
 * pool); the result does not depend on the number of threads.
 */
public final class WeightQuantizer {

    /** Reads row {@code row} of a source tensor as {@code cols} floats into {@code dst}; must be thread-safe. */
    @FunctionalInterface
    public interface RowReader {
        void read(int row, float[] dst);
    }

    private final float[] alphas;

    /** @param alphas clipping ratios; the first must be 1 (RTN), the rest in (0, 1) */
    public WeightQuantizer(float[] alphas) {
        if (alphas.length == 0 || alphas[0] != 1f) {
            throw new IllegalArgumentException("clipping grid must start with alpha = 1 (RTN), got " + Arrays.toString(alphas));
        }
        for (float a : alphas) {
            if (!(a > 0f && a <= 1f)) {
                throw new IllegalArgumentException("clipping ratio " + a + " is outside (0, 1]");
            }
        }
        this.alphas = alphas.clone();
    }

    /** Plain round-to-nearest, as published. */
    public static WeightQuantizer rtn() {
        return new WeightQuantizer(new float[] {1f});
    }

    /** The default: clipping search over alpha = 1.00, 0.99, ..., 0.80 ({@code (100 - i) / 100f}). */
    public static WeightQuantizer clipping() {
        float[] a = new float[21];
        for (int i = 0; i < a.length; i++) {
            a[i] = (100 - i) / 100f;
        }
        return new WeightQuantizer(a);
    }

    /** Clipping search over {@code steps} ratios {@code (float) (1 - (1 - lowest) * i / (steps - 1))}. */
    public static WeightQuantizer clipping(float lowest, int steps) {
        if (steps < 1 || !(lowest > 0f && lowest <= 1f)) {
            throw new IllegalArgumentException("clipping grid needs steps >= 1 and 0 < lowest <= 1, got " + steps + ", " + lowest);
        }
        float[] a = new float[steps];
        for (int i = 0; i < steps; i++) {
            a[i] = steps == 1 ? 1f : (float) (1.0 - (1.0 - lowest) * i / (steps - 1));
        }
        a[0] = 1f;
        return new WeightQuantizer(a);
    }

    public float[] alphas() {
        return alphas.clone();
    }

    /** Quantizes a row-major {@code rows x cols} float matrix. */
    public WeightQuantization quantize(String name, float[] w, int rows, int cols) {
        if ((long) rows * cols != w.length) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " needs " + (long) rows * cols
                    + " floats, got " + w.length);
        }
        return quantize(name, rows, cols, (r, dst) -> System.arraycopy(w, r * cols, dst, 0, cols));
    }

    /** Quantizes a tensor of any type that can dequantize its rows (F32, F16, Q8_0, Q6_K, ...). */
    public WeightQuantization quantize(String name, TensorType type, MemorySegment data, int rows, int cols) {
        return quantize(name, rows, cols, (r, dst) -> type.dequantizeRow(data, r, cols, dst, 0));
    }

    public WeightQuantization quantize(String name, int rows, int cols, RowReader reader) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": weight needs rows > 0 and cols > 0, got " + rows + " x " + cols);
        }
        int groups = Fq6Layout.groups(cols);
        long n = (long) rows * groups * Fq6Layout.GROUP;
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " is too large for one FQ6 matrix in memory");
        }
        int padded = groups * Fq6Layout.GROUP;
        byte[] codes = new byte[(int) n];
        short[] scales = new short[rows * groups];
        WeightError[] rtn = new WeightError[rows];
        WeightError[] chosen = new WeightError[rows];
        long[] clipped = new long[rows];
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols];
            reader.read(r, row);
            RowResult rr = quantizeRow(name, r, row, codes, r * padded, scales, r * groups);
            rtn[r] = rr.rtn;
            chosen[r] = rr.chosen;
            clipped[r] = rr.clipped;
        });
        WeightError rtnTotal = new WeightError(0, 0, 0, 0);
        WeightError total = rtnTotal;
        long clippedTotal = 0;
        for (int r = 0; r < rows; r++) {
            rtnTotal = rtnTotal.plus(rtn[r]);
            total = total.plus(chosen[r]);
            clippedTotal += clipped[r];
        }
        return new WeightQuantization(new FlexqWeights(rows, cols, codes, scales), rtnTotal, total, clippedTotal);
    }

    private record RowResult(WeightError rtn, WeightError chosen, long clipped) {
    }

    private RowResult quantizeRow(String name, int r, float[] row, byte[] codes, int codeBase, short[] scales, int scaleBase) {
        int cols = row.length;
        int groups = Fq6Layout.groups(cols);
        double sseRtn = 0, sse = 0, ssw = 0, maxRtn = 0, max = 0;
        long clipped = 0;
        for (int g = 0; g < groups; g++) {
            int from = g * Fq6Layout.GROUP;
            int to = Math.min(cols, from + Fq6Layout.GROUP);
            float absmax = 0;
            for (int k = from; k < to; k++) {
                float v = row[k];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException(name + ": weight at row " + r + ", column " + k + " is " + v);
                }
                absmax = Math.max(absmax, Math.abs(v));
                ssw += (double) v * v;
            }
            if (Float.isInfinite(Float.float16ToFloat(Float.floatToFloat16(absmax / 31f)))) {
                throw new IllegalArgumentException(name + ": row " + r + ", group " + g + " has |w| up to " + absmax
                        + ", whose INT6 scale (absmax / 31) exceeds the fp16 range (65504)");
            }
            double best = Double.POSITIVE_INFINITY;
            double bestMax = 0;
            int bestIndex = 0;
            for (int i = 0; i < alphas.length; i++) {
                float sw = scaleFor(alphas[i], absmax);
                double err = 0, errMax = 0;
                for (int k = from; k < to; k++) {
                    double e = row[k] - (double) (weightCode(row[k], sw) * sw);
                    err += e * e;
                    errMax = Math.max(errMax, Math.abs(e));
                }
                if (i == 0) {
                    sseRtn += err;
                    maxRtn = Math.max(maxRtn, errMax);
                }
                if (err < best) {
                    best = err;
                    bestMax = errMax;
                    bestIndex = i;
                }
            }
            sse += best;
            max = Math.max(max, bestMax);
            if (alphas[bestIndex] < 1f) {
                clipped++;
            }
            short h = Float.floatToFloat16((alphas[bestIndex] * absmax) / 31f);
            scales[scaleBase + g] = h;
            float sw = Float.float16ToFloat(h);
            for (int k = from; k < to; k++) {
                codes[codeBase + k] = (byte) weightCode(row[k], sw);
            }
        }
        long count = cols;
        return new RowResult(new WeightError(sseRtn, ssw, count, maxRtn), new WeightError(sse, ssw, count, max), clipped);
    }

    /**
     * The fp16 scale the search picks for {@code w[from, to)} (the same search as {@link #quantize}: the alpha of
     * least squared error, ties keeping the larger alpha), as {@code {fp16 bits, alpha index}}. Used by
     * {@link Gptq}, which picks each group's scale from its error-updated weights.
     */
    int[] groupScale(String name, int r, int g, float[] w, int from, int to) {
        float absmax = 0;
        for (int k = from; k < to; k++) {
            if (!Float.isFinite(w[k])) {
                throw new IllegalArgumentException(name + ": weight at row " + r + ", column " + k + " is " + w[k]);
            }
            absmax = Math.max(absmax, Math.abs(w[k]));
        }
        if (Float.isInfinite(Float.float16ToFloat(Float.floatToFloat16(absmax / 31f)))) {
            throw new IllegalArgumentException(name + ": row " + r + ", group " + g + " has |w| up to " + absmax
                    + ", whose INT6 scale (absmax / 31) exceeds the fp16 range (65504)");
        }
        double best = Double.POSITIVE_INFINITY;
        int bestIndex = 0;
        for (int i = 0; i < alphas.length; i++) {
            float sw = scaleFor(alphas[i], absmax);
            double err = 0;
            for (int k = from; k < to; k++) {
                double e = w[k] - (double) (weightCode(w[k], sw) * sw);
                err += e * e;
            }
            if (err < best) {
                best = err;
                bestIndex = i;
            }
        }
        return new int[] {Float.floatToFloat16((alphas[bestIndex] * absmax) / 31f), bestIndex};
    }

    /** {@code sw = fp32(fp16((alpha * absmax) / 31))}. */
    static float scaleFor(float alpha, float absmax) {
        return Float.float16ToFloat(Float.floatToFloat16((alpha * absmax) / 31f));
    }

    /** {@code clamp(roundHalfAwayFromZero(w / sw), -32, 31)}, or 0 when {@code sw == 0}. */
    public static int weightCode(float w, float sw) {
        return sw == 0f ? 0 : Rounding.code(w / sw, Fq6Layout.CODE_MIN, Fq6Layout.CODE_MAX);
    }
}
