package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.MetadataTypes;
import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.FloatTypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * SmoothQuant-style migration of activation range into the weights, exact in real arithmetic: every linear input
 * column {@code j} is divided by {@code s_j} and the matching weight column multiplied by it, so that the per-token
 * 128-group activation quantizer sees flatter channels. Where the division goes, per block:
 * <ul>
 *   <li>q/k/v (input "attn_in") and gate/up ("ffn_in"): into the preceding RMSNorm weight, {@code g_j / s_j};</li>
 *   <li>attn_output: into v's output rows. With grouped-query attention v row {@code h * hs + d} feeds the o columns
 *       {@code qh * hs + d} of every query head {@code qh} of KV head {@code h} (runtime: {@code h = qh / (heads /
 *       kvHeads)}), so one {@code s} per v row serves all of them;</li>
 *   <li>ffn_down: into up's output rows ({@code silu(gate_j) * up_j / s_j} feeds column {@code j}).</li>
 * </ul>
 * The factor is SmoothQuant's {@code max|X_j|^alpha / max|W_j|^(1 - alpha)} ({@code max|W_j|} over every matrix
 * that reads column {@code j}; {@code max|X_j|} from calibration, over the query heads sharing a v row), divided by
 * its geometric mean over the input (a common factor changes nothing in real arithmetic and keeps the weights and
 * their fp16 group scales in range), then rounded to a power of two, {@code s_j = 2^e_j} with {@code |e_j| <= 16}:
 * multiplying an fp32 value by a power of two is exact, so the transformed model computes the same fp32 products as
 * the original, and the log2 rounding (StrictMath) makes the factors identical on every JVM. A channel that saw no
 * activation or has only zero weights keeps {@code s = 1}.
 */
public final class Smoothing {

    /** The largest |log2 s| allowed (keeps weights and fp16 group scales far from overflow and subnormals). */
    static final int MAX_EXPONENT = 16;

    private Smoothing() {
    }

    /**
     * The transformed model's tensors and the factors behind them.
     *
     * @param tensors      the replaced tensors (norms and linears, F32), by name
     * @param inputScales  the factor {@code s} of every input column, by {@link HessianCollector#inputKey} of the linears
     *                     reading it (the transformed input is {@code x / s}, the Hessian {@code H_ij / (s_i s_j)})
     */
    public record Result(Map<String, TensorEntry> tensors, Map<String, float[]> inputScales) {

        /** The Hessian of the transformed input from that of the original input. */
        public double[] transformHessian(String inputKey, double[] h) {
            float[] s = inputScales.get(inputKey);
            if (s == null) {
                return h;
            }
            int k = s.length;
            if (h.length != (long) k * k) {
                throw new IllegalArgumentException(inputKey + ": Hessian of " + h.length + " entries for " + k + " columns");
            }
            double[] out = new double[h.length];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    out[i * k + j] = h[i * k + j] / ((double) s[i] * s[j]);
                }
            }
            return out;
        }

        /** The model with the transformed tensors in place of the source's (everything else as it is). */
        public QuantizedModel applyTo(ModelFile source) {
            Map<String, TensorEntry> all = new LinkedHashMap<>(source.tensors());
            all.putAll(tensors);
            return new QuantizedModel(source.path(), source.format(), source.metadata().asMap(),
                    MetadataTypes.of(source), all);
        }
    }

    /** Refuses an alpha outside [0, 1] (NaN included), naming the flag that gave it. */
    public static double checkAlpha(double alpha, String flag) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException(flag + " " + alpha + ": the migration strength alpha must be between 0 and 1 "
                    + "(0.5 moves half of each channel's activation range, in log scale, into the weights)");
        }
        return alpha;
    }

    /**
     * Computes the factors from {@code absMax} (per input key, the largest |x| of each input column over the
     * calibration tokens) and returns the transformed tensors.
     */
    public static Result plan(ModelFile source, Function<String, float[]> absMax, double alpha) {
        return plan(source, absMax, alpha, true);
    }

    /**
     * As above; {@code powerOfTwo = false} keeps the factors unrounded ({@code 2^(e_j - mean e)} in fp32, for
     * experiments: the transformed fp32 weights then differ from exact by fp32 rounding).
     */
    public static Result plan(ModelFile source, Function<String, float[]> absMax, double alpha, boolean powerOfTwo) {
        checkAlpha(alpha, "alpha");
        ModelQuantizer.linears(source); // architecture and the seven linears per block checked
        int blocks = source.metadata().getInt("llama.block_count");
        int heads = source.metadata().getInt("llama.attention.head_count");
        int kvHeads = source.metadata().getInt("llama.attention.head_count_kv", heads);
        Map<String, TensorEntry> out = new LinkedHashMap<>();
        Map<String, float[]> scales = new LinkedHashMap<>();
        for (int b = 0; b < blocks; b++) {
            String p = "blk." + b + ".";
            Matrix q = Matrix.of(source, p + "attn_q.weight"), k = Matrix.of(source, p + "attn_k.weight"), v = Matrix.of(source, p + "attn_v.weight");
            Matrix o = Matrix.of(source, p + "attn_output.weight");
            Matrix gate = Matrix.of(source, p + "ffn_gate.weight"), up = Matrix.of(source, p + "ffn_up.weight"), down = Matrix.of(source, p + "ffn_down.weight");
            float[] attnNorm = source.vector(p + "attn_norm.weight", q.cols);
            float[] ffnNorm = source.vector(p + "ffn_norm.weight", gate.cols);

            // q/k/v and gate/up: one factor per column of the shared input, the division folded into the norm
            float[] sAttn = factors(stats(absMax, p + "attn_in", q.cols), colMax(q, k, v), alpha, powerOfTwo);
            float[] sFfn = factors(stats(absMax, p + "ffn_in", gate.cols), colMax(gate, up), alpha, powerOfTwo);
            for (int j = 0; j < q.cols; j++) {
                attnNorm[j] /= sAttn[j];
            }
            for (int j = 0; j < gate.cols; j++) {
                ffnNorm[j] /= sFfn[j];
            }
            q.scaleCols(sAttn);
            k.scaleCols(sAttn);
            v.scaleCols(sAttn);
            gate.scaleCols(sFfn);
            up.scaleCols(sFfn);

            // attn_output: one factor per v row, shared by the query heads of that KV head
            int hs = o.cols / heads;
            if (o.cols != heads * hs || v.rows != kvHeads * hs || heads % kvHeads != 0) {
                throw new ModelFormatException(source.path() + ": " + p + "attn_output.weight has " + o.cols + " columns, attn_v.weight "
                        + v.rows + " rows: not " + heads + " query heads and " + kvHeads + " KV heads of one head size");
            }
            int group = heads / kvHeads;
            float[] oStats = stats(absMax, p + "attn_output.weight", o.cols);
            float[] oCol = colMax(o);
            float[] xV = new float[v.rows], wV = new float[v.rows];
            for (int c = 0; c < o.cols; c++) {
                int r = (c / hs) / group * hs + c % hs;
                xV[r] = Math.max(xV[r], oStats[c]);
                wV[r] = Math.max(wV[r], oCol[c]);
            }
            float[] sV = factors(xV, wV, alpha, powerOfTwo);
            float[] sO = new float[o.cols];
            for (int c = 0; c < o.cols; c++) {
                sO[c] = sV[(c / hs) / group * hs + c % hs];
            }
            v.scaleRows(sV);
            o.scaleCols(sO);

            // ffn_down: into up's rows
            float[] sDown = factors(stats(absMax, p + "ffn_down.weight", down.cols), colMax(down), alpha, powerOfTwo);
            if (up.rows != down.cols) {
                throw new ModelFormatException(source.path() + ": " + p + "ffn_up.weight has " + up.rows + " rows, ffn_down.weight "
                        + down.cols + " columns");
            }
            up.scaleRows(sDown);
            down.scaleCols(sDown);

            out.put(p + "attn_norm.weight", f32(p + "attn_norm.weight", attnNorm, attnNorm.length, 1));
            out.put(p + "ffn_norm.weight", f32(p + "ffn_norm.weight", ffnNorm, ffnNorm.length, 1));
            for (Matrix m : new Matrix[]{q, k, v, o, gate, up, down}) {
                out.put(m.name, f32(m.name, m.w, m.cols, m.rows));
            }
            scales.put(p + "attn_in", sAttn);
            scales.put(p + "ffn_in", sFfn);
            scales.put(p + "attn_output.weight", sO);
            scales.put(p + "ffn_down.weight", sDown);
        }
        return new Result(out, scales);
    }

    /**
     * {@code s_j = 2^round(e_j - mean e)}, {@code e_j = alpha log2 x_j - (1 - alpha) log2 w_j}, the mean over the
     * columns with {@code x_j > 0} and {@code w_j > 0} (the others keep 1); ties of the rounding go up (Math.floor(e + 0.5)).
     */
    static float[] factors(float[] x, float[] w, double alpha) {
        return factors(x, w, alpha, true);
    }

    static float[] factors(float[] x, float[] w, double alpha, boolean powerOfTwo) {
        int n = x.length;
        double[] e = new double[n];
        boolean[] used = new boolean[n];
        double sum = 0;
        int count = 0;
        for (int j = 0; j < n; j++) {
            if (x[j] > 0 && w[j] > 0) {
                e[j] = (alpha * StrictMath.log(x[j]) - (1 - alpha) * StrictMath.log(w[j])) / StrictMath.log(2);
                used[j] = true;
                sum += e[j];
                count++;
            }
        }
        double mean = count == 0 ? 0 : sum / count;
        float[] s = new float[n];
        for (int j = 0; j < n; j++) {
            double d = used[j] ? Math.max(-MAX_EXPONENT, Math.min(MAX_EXPONENT, e[j] - mean)) : 0;
            s[j] = powerOfTwo ? Math.scalb(1f, (int) Math.floor(d + 0.5)) : (float) StrictMath.pow(2, d);
        }
        return s;
    }

    private static float[] stats(Function<String, float[]> absMax, String key, int cols) {
        float[] s = absMax.apply(key);
        if (s == null) {
            throw new IllegalStateException("no calibration statistics for the input " + key);
        }
        if (s.length != cols) {
            throw new IllegalStateException("calibration statistics for " + key + " have " + s.length + " columns, the model " + cols);
        }
        return s;
    }

    private static float[] colMax(Matrix... ms) {
        float[] m = new float[ms[0].cols];
        for (Matrix x : ms) {
            for (int r = 0; r < x.rows; r++) {
                for (int c = 0; c < x.cols; c++) {
                    m[c] = Math.max(m[c], Math.abs(x.w[r * x.cols + c]));
                }
            }
        }
        return m;
    }

    private static TensorEntry f32(String name, float[] v, int cols, int rows) {
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(v.length, 4)]);
        MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
        long[] ne = rows == 1 ? new long[]{cols} : new long[]{cols, rows};
        return new TensorEntry(name, FloatTypes.F32, ne, seg);
    }

    /** A linear weight as row-major fp32, changed in place. */
    private static final class Matrix {
        final String name;
        final int rows, cols;
        final float[] w;

        private Matrix(String name, int rows, int cols, float[] w) {
            this.name = name;
            this.rows = rows;
            this.cols = cols;
            this.w = w;
        }

        static Matrix of(ModelFile source, String name) {
            TensorEntry t = source.tensor(name);
            int rows = Math.toIntExact(t.rows()), cols = Math.toIntExact(t.cols());
            float[] w = new float[Math.multiplyExact(rows, cols)];
            for (int r = 0; r < rows; r++) {
                t.type().dequantizeRow(t.data(), r, cols, w, r * cols);
            }
            return new Matrix(name, rows, cols, w);
        }

        void scaleCols(float[] s) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    w[r * cols + c] *= s[c];
                }
            }
        }

        void scaleRows(float[] s) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    w[r * cols + c] /= s[r];
                }
            }
        }
    }

    /** One line for logs: the spread of the factors of each input kind. */
    public static String describe(Result r) {
        int lo = 0, hi = 0;
        for (float[] s : r.inputScales().values()) {
            for (float f : s) {
                lo = Math.min(lo, Math.getExponent(f));
                hi = Math.max(hi, Math.getExponent(f));
            }
        }
        return String.format(Locale.ROOT, "smoothing factors 2^%d .. 2^%d over %d inputs", lo, hi, r.inputScales().size());
    }
}
