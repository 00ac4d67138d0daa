package io.flexq.plugin.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * GPTQ error compensation (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers") producing ordinary FQ6 weights: the same codes, fp16 scales per (row, 128-group) and
 * rounding rule as {@link WeightQuantizer}; only which codes are chosen changes.
 *
 * <p>Goal: minimise the layer's output error {@code ||X W^T - X Q^T||^2 = tr((W - Q) H (W - Q)^T) * n / 2} over
 * calibration inputs X (n tokens x K), with {@code H = 2/n X^T X}. Rows are independent under this objective. Columns
 * are quantized in natural order; after column i is rounded, its error is spread over the not yet quantized columns
 * j > i by the optimal least-squares update, which with U the upper Cholesky factor of {@code H^-1}
 * ({@code H^-1 = U^T U}) is
 *
 * <pre>
 *   e     = (w_i - q_i) / U[i][i]
 *   w_j  -= e * U[i][j]              for j > i
 * </pre>
 *
 * Lazy batching: inside a 128-column block only the block's own columns are updated; the rest of the row gets the
 * block's errors at once ({@code w[to..K) -= E[0..128) . U[block][to..K)}), a small matrix product that reuses each
 * row of U for a chunk of rows. Blocks coincide with the FQ6 groups, so each group's scale is chosen (clipping search
 * or RTN of the {@code WeightQuantizer} given) from the group's weights as they are when the group starts, i.e.
 * after the errors of all earlier groups were folded in. No act-order: scales are per group in natural order.
 *
 * <p>Damping: {@code H + lambda * mean(diag H) * I} (lambda = 0.01 by default) keeps the factorisation stable; it is
 * raised tenfold (up to 3 times) if H is still not positive definite. Dead inputs ({@code H_ii = 0}, an input that was
 * zero on every calibration token) get {@code H_ii = 1}: their weights are quantized as they are and spread no error
 * (their row and column of H, hence of U, are zero off the diagonal). Unlike the reference implementation they are
 * not zeroed, so an input that is live at inference time keeps its weights.
 *
 * <p>U is found without forming {@code H^-1}: with J the index reversal, {@code J H J = L L^T} (lower Cholesky) gives
 * {@code H = V V^T} with {@code V = J L J} upper, hence {@code H^-1 = V^-T V^-1} and {@code U = V^-1 = J L^-1 J}: one
 * Cholesky and one triangular inverse, both in double, each about K^3/3 multiply-adds.
 */
public final class Gptq {

    /** The default relative damping, as in the paper. */
    public static final double DEFAULT_DAMPING = 0.01;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int ROW_CHUNK = 16;
    private static final int G = Fq6Layout.GROUP;

    private final WeightQuantizer scales;
    private final double damping;

    /**
     * @param scales  picks each group's scale (e.g. {@link WeightQuantizer#clipping()} or {@link WeightQuantizer#rtn()})
     * @param damping relative damping lambda (> 0): {@code lambda * mean(diag H)} is added to the diagonal
     */
    public Gptq(WeightQuantizer scales, double damping) {
        if (!(damping > 0 && damping < 1e3)) {
            throw new IllegalArgumentException("GPTQ damping must be in (0, 1000), got " + damping);
        }
        this.scales = scales;
        this.damping = damping;
    }

    /**
     * Quantizes a row-major {@code rows x cols} matrix against the Hessian {@code h} (cols x cols, row-major,
     * symmetric, e.g. {@code 2/n X^T X}; only its scale-free shape matters). The reported errors are weight-space
     * errors against {@code w} (RTN's and GPTQ's); GPTQ's is larger than clipping's by design, its output error smaller.
     */
    public WeightQuantization quantize(String name, float[] w, int rows, int cols, double[] h) {
        if (rows <= 0 || cols <= 0 || (long) rows * cols != w.length) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " needs " + (long) rows * cols
                    + " floats, got " + w.length);
        }
        checkHessian(name, h, cols);
        int groups = Fq6Layout.groups(cols);
        int padded = groups * G;
        if ((long) rows * padded > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " is too large for one FQ6 matrix in memory");
        }
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException(name + ": weight at row " + i / cols + ", column " + i % cols + " is " + w[i]);
            }
        }
        float[] u = inverseCholeskyUpper(name, h, cols, damping);
        byte[] codes = new byte[rows * padded];
        short[] sc = new short[rows * groups];
        long[] clipped = new long[rows];
        int chunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int r0 = c * ROW_CHUNK;
            int r1 = Math.min(rows, r0 + ROW_CHUNK);
            quantizeRows(name, w, cols, u, r0, r1, codes, sc, clipped);
        });
        FlexqWeights q = new FlexqWeights(rows, cols, codes, sc);
        WeightError rtn = new WeightError(0, 0, 0, 0);
        WeightError err = rtn;
        long clippedTotal = 0;
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            rtn = rtn.plus(rtnError(w, r, cols));
            q.dequantizeRow(r, row, 0);
            err = err.plus(error(w, r, cols, row));
            clippedTotal += clipped[r];
        }
        return new WeightQuantization(q, rtn, err, clippedTotal);
    }

    /** GPTQ on rows [r0, r1): each row is a working copy updated in place as columns are quantized. */
    private void quantizeRows(String name, float[] w, int cols, float[] u, int r0, int r1, byte[] codes, short[] sc, long[] clipped) {
        int n = r1 - r0;
        int groups = Fq6Layout.groups(cols);
        int padded = groups * G;
        float[][] work = new float[n][];
        for (int i = 0; i < n; i++) {
            work[i] = new float[cols];
            System.arraycopy(w, (r0 + i) * cols, work[i], 0, cols);
        }
        float[][] err = new float[n][G];
        float[] steps = new float[G];
        for (int g = 0; g < groups; g++) {
            int from = g * G;
            int to = Math.min(cols, from + G);
            for (int i = 0; i < n; i++) {
                int r = r0 + i;
                float[] x = work[i];
                int[] s = scales.groupScale(name, r, g, x, from, to);
                sc[r * groups + g] = (short) s[0];
                if (s[1] > 0) {
                    clipped[r]++;
                }
                Arrays.fill(steps, Float.float16ToFloat((short) s[0]));
                roundGroup(x, from, to, steps, u, cols, codes, r * padded, err[i]);
            }
            if (to < cols) {
                // lazy update of the rest of every row: w[to..) -= sum_b e[b] * U[from + b][to..)
                for (int b = 0; b < to - from; b++) {
                    int base = (from + b) * cols;
                    for (int i = 0; i < n; i++) {
                        axpy(-err[i][b], u, base, work[i], to, cols);
                    }
                }
            }
        }
    }

    /**
     * GPTQ's step within one group of a working row x: column k in [from, to) is rounded with step steps[k - from]
     * into codes[codeAt + k], its error scaled by U's diagonal is left in e[k - from], and the group's later columns
     * are compensated for it. Public for scale layouts other than FQ6's (the samples module's sub-scale experiment),
     * which pick their own per-column steps.
     */
    public static void roundGroup(float[] x, int from, int to, float[] steps, float[] u, int cols, byte[] codes, int codeAt, float[] e) {
        for (int k = from; k < to; k++) {
            float step = steps[k - from];
            int code = WeightQuantizer.weightCode(x[k], step);
            codes[codeAt + k] = (byte) code;
            float ek = (x[k] - code * step) / u[k * cols + k];
            e[k - from] = ek;
            int base = k * cols;
            for (int j = k + 1; j < to; j++) {
                x[j] -= ek * u[base + j];
            }
        }
    }

    /** The rest of one working row after a group [from, from + len): {@code x[to..) -= sum_b e[b] * U[from + b][to..)}. */
    public static void updateRest(float[] e, int from, int len, float[] u, int cols, float[] x) {
        for (int b = 0; b < len; b++) {
            axpy(-e[b], u, (from + b) * cols, x, from + len, cols);
        }
    }

    /** {@code y[from..to) += a * x[xBase + from .. xBase + to)}. */
    private static void axpy(float a, float[] x, int xBase, float[] y, int from, int to) {
        if (a == 0f) {
            return;
        }
        FloatVector va = FloatVector.broadcast(F, a);
        int k = from;
        int bound = from + F.loopBound(to - from);
        for (; k < bound; k += F.length()) {
            FloatVector vx = FloatVector.fromArray(F, x, xBase + k);
            FloatVector.fromArray(F, y, k).add(vx.mul(va)).intoArray(y, k);
        }
        for (; k < to; k++) {
            y[k] += a * x[xBase + k];
        }
    }

    private static WeightError rtnError(float[] w, int r, int cols) {
        double sse = 0, ssw = 0, max = 0;
        for (int from = 0; from < cols; from += G) {
            int to = Math.min(cols, from + G);
            float absmax = 0;
            for (int k = from; k < to; k++) {
                absmax = Math.max(absmax, Math.abs(w[r * cols + k]));
            }
            float sw = WeightQuantizer.scaleFor(1f, absmax);
            for (int k = from; k < to; k++) {
                float v = w[r * cols + k];
                double e = v - (double) (WeightQuantizer.weightCode(v, sw) * sw);
                sse += e * e;
                ssw += (double) v * v;
                max = Math.max(max, Math.abs(e));
            }
        }
        return new WeightError(sse, ssw, cols, max);
    }

    private static WeightError error(float[] w, int r, int cols, float[] deq) {
        double sse = 0, ssw = 0, max = 0;
        for (int k = 0; k < cols; k++) {
            float v = w[r * cols + k];
            double e = v - (double) deq[k];
            sse += e * e;
            ssw += (double) v * v;
            max = Math.max(max, Math.abs(e));
        }
        return new WeightError(sse, ssw, cols, max);
    }

    /**
     * The factor {@link #quantize} updates columns with (the upper Cholesky factor U of the damped {@code H^-1}, K x K
     * row-major floats), for error-compensated rounding in scale layouts other than FQ6's (the samples module's
     * sub-scale experiment). Same checks, damping and dead-input rule as here.
     */
    public static float[] inverseFactor(String name, double[] h, int k, double damping) {
        checkHessian(name, h, k);
        return inverseCholeskyUpper(name, h, k, damping);
    }

    private static void checkHessian(String name, double[] h, int k) {
        if ((long) k * k != h.length) {
            throw new IllegalArgumentException(name + ": Hessian must be " + k + " x " + k + ", got " + h.length + " values");
        }
    }

    /**
     * The upper Cholesky factor U of {@code (H + damping)^-1} ({@code H^-1 = U^T U}), row-major K x K floats, zero
     * below the diagonal; dead inputs handled as described in the class comment.
     */
    static float[] inverseCholeskyUpper(String name, double[] h, int k, double damping) {
        double diagSum = 0;
        int live = 0;
        for (int i = 0; i < k; i++) {
            double d = h[i * k + i];
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new IllegalArgumentException(name + ": Hessian diagonal " + i + " is " + d + " (must be finite and >= 0)");
            }
            if (d > 0) {
                diagSum += d;
                live++;
            }
        }
        double mean = live == 0 ? 1 : diagSum / live;
        double lambda = damping;
        for (int attempt = 0; attempt < 4; attempt++, lambda *= 10) {
            // a = J (H + lambda * mean * I) J, with dead diagonals set to 1
            double[] a = new double[k * k];
            double add = lambda * mean;
            IntStream.range(0, k).parallel().forEach(i -> {
                int ri = k - 1 - i;
                for (int j = 0; j < k; j++) {
                    a[i * k + j] = h[ri * k + (k - 1 - j)];
                }
                double d = a[i * k + i];
                a[i * k + i] = (d == 0 ? 1 : d) + add;
            });
            if (choleskyLower(a, k)) {
                double[] inv = lowerInverseTransposed(a, k);
                // U[i][j] = Linv[K-1-i][K-1-j] = inv[K-1-j][K-1-i] (inv holds Linv transposed)
                float[] u = new float[k * k];
                IntStream.range(0, k).parallel().forEach(i -> {
                    int ci = k - 1 - i;
                    for (int j = i; j < k; j++) {
                        u[i * k + j] = (float) inv[(k - 1 - j) * k + ci];
                    }
                });
                return u;
            }
        }
        throw new IllegalArgumentException(name + ": Hessian is not positive definite even with damping " + lambda / 10
                + " * mean diagonal (non-finite or inconsistent calibration statistics?)");
    }

    /** In-place lower Cholesky {@code a = L L^T} (L in the lower triangle); false if a pivot is not positive. */
    static boolean choleskyLower(double[] a, int k) {
        for (int j = 0; j < k; j++) {
            int rj = j * k;
            double d = a[rj + j] - dot(a, rj, a, rj, j);
            if (!(d > 0) || Double.isInfinite(d)) {
                return false;
            }
            double ljj = Math.sqrt(d);
            a[rj + j] = ljj;
            final int jj = j;
            IntStream rows = IntStream.range(j + 1, k);
            if ((long) (k - j) * j > 1 << 16) {
                rows = rows.parallel();
            }
            rows.forEach(i -> {
                int ri = i * k;
                a[ri + jj] = (a[ri + jj] - dot(a, ri, a, rj, jj)) / ljj;
            });
        }
        return true;
    }

    /**
     * The inverse of the lower triangular L held in {@code l}'s lower triangle, returned transposed: row j of the
     * result is column j of {@code L^-1}, the solution of {@code L x = e_j} (x_i = 0 for i < j), by forward
     * substitution. Columns are independent, so they run in parallel.
     */
    static double[] lowerInverseTransposed(double[] l, int k) {
        double[] out = new double[k * k];
        IntStream.range(0, k).parallel().forEach(j -> {
            int rj = j * k;
            out[rj + j] = 1 / l[j * k + j];
            for (int i = j + 1; i < k; i++) {
                int ri = i * k;
                double s = 0;
                for (int m = j; m < i; m++) {
                    s += l[ri + m] * out[rj + m];
                }
                out[rj + i] = -s / l[ri + i];
            }
        });
        return out;
    }

    private static double dot(double[] x, int xo, double[] y, int yo, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int m = 0;
        for (; m + 3 < n; m += 4) {
            s0 += x[xo + m] * y[yo + m];
            s1 += x[xo + m + 1] * y[yo + m + 1];
            s2 += x[xo + m + 2] * y[yo + m + 2];
            s3 += x[xo + m + 3] * y[yo + m + 3];
        }
        for (; m < n; m++) {
            s0 += x[xo + m] * y[yo + m];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
