package io.flexq.runtime.llama;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** The element-wise and reduction loops of the forward pass, on heap float arrays, with the Vector API. */
final class VectorMath {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    // butterfly partners for a lane sum in a fixed order (see laneSum)
    private static final VectorShuffle<Float> X1 = L >= 2 ? VectorShuffle.fromOp(S, i -> i ^ (L / 2)) : null;
    private static final VectorShuffle<Float> X2 = L >= 4 ? VectorShuffle.fromOp(S, i -> i ^ (L / 4)) : null;
    private static final VectorShuffle<Float> X3 = L >= 8 ? VectorShuffle.fromOp(S, i -> i ^ (L / 8)) : null;
    private static final VectorShuffle<Float> X4 = L >= 16 ? VectorShuffle.fromOp(S, i -> i ^ (L / 16)) : null;

    private VectorMath() {
    }

    /** sum_i a[ao + i] * b[bo + i] for i in [0, n). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int upper = S.loopBound(n); i < upper; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            sum = laneSum(acc);
        }
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /**
     * The lanes' sum in a fixed order (butterfly: lane i + lane i ^ L/2, then i ^ L/4, ...). reduceLanes(ADD)
     * leaves the order unspecified and the JIT-compiled and interpreted versions round differently, so attention
     * scores, hence quantization decisions downstream, would change with warm-up.
     */
    static float laneSum(FloatVector v) {
        if (L > 16) {
            float s = 0;
            for (float f : v.toArray()) {
                s += f;
            }
            return s;
        }
        if (L >= 2) v = v.add(v.rearrange(X1));
        if (L >= 4) v = v.add(v.rearrange(X2));
        if (L >= 8) v = v.add(v.rearrange(X3));
        if (L >= 16) v = v.add(v.rearrange(X4));
        return v.lane(0);
    }

    /** y[yo + i] += alpha * x[xo + i] for i in [0, n). */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    /** y[i] += x[i] for i in [0, n). */
    static void add(float[] x, float[] y, int n) {
        add(x, y, 0, n);
    }

    /** y[i] += x[i] for i in [from, to) (element-wise: any split gives the same bits). */
    static void add(float[] x, float[] y, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector.fromArray(S, y, i).add(FloatVector.fromArray(S, x, i)).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] += x[i];
        }
    }

    /**
     * y[i] += x[i] for i in [from, to), x the floats of a segment (a matmul's output batch, read in place): the same
     * additions as {@link #add(float[], float[], int, int)}, so the same bits.
     */
    static void add(java.lang.foreign.MemorySegment x, float[] y, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector.fromArray(S, y, i).add(FloatVector.fromMemorySegment(S, x, 4L * i, java.nio.ByteOrder.nativeOrder())).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] += x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
        }
    }

    /**
     * RMSNorm of one row: {@code out[i] = w[i] * x[i] / sqrt(mean(x^2) + eps)}. The mean is accumulated in
     * double: it costs nothing next to the matmuls and keeps the norm exact to float rounding.
     */
    static void rmsNorm(float[] x, int xo, float[] w, float eps, float[] out, int oo, int n) {
        float inv = rmsInverse(x, xo, eps, n);
        int i = 0;
        FloatVector vinv = FloatVector.broadcast(S, inv);
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).mul(vinv).mul(FloatVector.fromArray(S, w, i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = w[i] * (x[xo + i] * inv);
        }
    }

    /**
     * As above into the floats of a segment from byte {@code outOffset} (a prompt's batch, written in place instead of
     * through a heap row and a copy): the same operations, so the same bits.
     */
    static void rmsNorm(float[] x, int xo, float[] w, float eps, java.lang.foreign.MemorySegment out, long outOffset, int n) {
        float inv = rmsInverse(x, xo, eps, n);
        int i = 0;
        FloatVector vinv = FloatVector.broadcast(S, inv);
        for (int upper = S.loopBound(n); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).mul(vinv).mul(FloatVector.fromArray(S, w, i))
                    .intoMemorySegment(out, outOffset + 4L * i, java.nio.ByteOrder.nativeOrder());
        }
        for (; i < n; i++) {
            out.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, outOffset + 4L * i, w[i] * (x[xo + i] * inv));
        }
    }

    /** 1 / sqrt(mean(x^2) + eps) of x[xo, xo + n), the mean accumulated in double. */
    private static float rmsInverse(float[] x, int xo, float eps, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            double v = x[xo + i];
            ss += v * v;
        }
        return (float) (1.0 / Math.sqrt(ss / n + eps));
    }

    /**
     * SwiGLU gate in place: {@code gate[i] = silu(gate[i]) * up[i]}, silu(g) = g / (1 + e^-g). Scalar Math.exp, not
     * the Vector API's lanewise EXP: the latter's intrinsic and fallback differ in the last bit, which made two
     * identical runs differ (the interpreter, C1 and C2 share one Math.exp stub).
     */
    static void swiglu(float[] gate, float[] up, int n) {
        swiglu(gate, up, 0, n);
    }

    /** As above for elements [from, to) (each element alone: any split gives the same bits). */
    static void swiglu(float[] gate, float[] up, int from, int to) {
        NativeLlamaCpu fast = NativeLlamaCpu.get();
        if (fast.runsSwiglu()) {
            // the native loop's vectorized exponential (deterministic too; within float rounding of this one)
            fast.swiglu(gate, up, from, to);
            return;
        }
        swigluJava(gate, up, from, to);
    }

    /** The scalar path of {@link #swiglu}. */
    static void swigluJava(float[] gate, float[] up, int n) {
        swigluJava(gate, up, 0, n);
    }

    private static void swigluJava(float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** In-place softmax of a[0, n): exponentials of (a - max), divided by their sum. */
    static void softmax(float[] a, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(a[i] - max);
            a[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            a[i] *= inv;
        }
    }
}
