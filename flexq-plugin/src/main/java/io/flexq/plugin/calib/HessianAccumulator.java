package io.flexq.plugin.calib;

import io.flexq.runtime.spi.ActivationBatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * Second moment of one layer input over calibration tokens: {@code S = sum_t x_t x_t^T} (K x K, double) and the
 * token count n, giving the GPTQ Hessian {@code H = 2/n S} of the layer objective {@code ||X W^T - X Q^T||^2}.
 * Layers that read the same input (q/k/v, gate/up) share one accumulator.
 *
 * <p>Each batch (T tokens) is transposed to K rows of T floats, and every upper-triangle entry
 * {@code S[i][j] += dot(x_.i, x_.j)} is one fp32 dot product over the batch (at most a window of tokens, so fp32 is
 * ample; an fma chain over the tokens, its lanes then summed in lane order) added to the double sum. Blocks of rows
 * run in parallel; the lower triangle is filled by {@link #hessian()}.
 * Not thread-safe: a forward pass feeds it from one thread.
 */
public final class HessianAccumulator {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int IB = 4;

    private final int dim;
    private final double[] sum;
    private final float[] absMax;
    private long tokens;

    public HessianAccumulator(int dim) {
        if (dim <= 0 || (long) dim * dim > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("Hessian dimension " + dim + " is out of range");
        }
        this.dim = dim;
        this.sum = new double[dim * dim];
        this.absMax = new float[dim];
    }

    public int dim() {
        return dim;
    }

    /** Tokens seen so far. */
    public long tokens() {
        return tokens;
    }

    /** The largest |x| of each input column over the tokens seen (a max: the same whatever the order). */
    public float[] absMax() {
        return absMax.clone();
    }

    /** Adds every token of the batch. */
    public void add(ActivationBatch batch) {
        if (batch.dim() != dim) {
            throw new IllegalArgumentException("batch of dim " + batch.dim() + " fed to a Hessian of dim " + dim);
        }
        int t = batch.tokens();
        float[] x = new float[t * dim];
        MemorySegment.copy(batch.data(), ValueLayout.JAVA_FLOAT, 0, x, 0, x.length);
        add(x, t);
    }

    /** Adds {@code t} tokens given row-major ({@code t x dim}). */
    public void add(float[] x, int t) {
        if ((long) t * dim != x.length) {
            throw new IllegalArgumentException(t + " tokens of dim " + dim + " need " + (long) t * dim + " floats, got " + x.length);
        }
        for (int i = 0; i < x.length; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("calibration activation is " + v + " (the model's forward pass overflowed?)");
            }
            absMax[i % dim] = Math.max(absMax[i % dim], Math.abs(v));
        }
        // xt[i][t] = x[t][i], padded to a whole number of vectors with zeros
        int tp = (t + F.length() - 1) / F.length() * F.length();
        float[] xt = new float[dim * tp];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < dim; i++) {
                xt[i * tp + s] = x[s * dim + i];
            }
        }
        // rows i in blocks of 4 share each load of row j (the products are memory-bound otherwise); every element
        // is still one fma chain over the tokens in order, then its lanes summed in lane order: the same bits as
        // one element at a time, whatever the blocking or the thread that computes it
        int blocks = (dim + IB - 1) / IB;
        IntStream.range(0, blocks).parallel().forEach(b -> {
            int i0 = b * IB;
            int i1 = Math.min(dim, i0 + IB);
            float[] lanes = new float[F.length()];
            for (int j = i0; j < dim; j++) {
                int rows = Math.min(i1, j + 1) - i0;
                if (rows == IB) {
                    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                    for (int s = 0; s < tp; s += F.length()) {
                        FloatVector xj = FloatVector.fromArray(F, xt, j * tp + s);
                        a0 = FloatVector.fromArray(F, xt, i0 * tp + s).fma(xj, a0);
                        a1 = FloatVector.fromArray(F, xt, (i0 + 1) * tp + s).fma(xj, a1);
                        a2 = FloatVector.fromArray(F, xt, (i0 + 2) * tp + s).fma(xj, a2);
                        a3 = FloatVector.fromArray(F, xt, (i0 + 3) * tp + s).fma(xj, a3);
                    }
                    sum[i0 * dim + j] += laneSum(a0, lanes);
                    sum[(i0 + 1) * dim + j] += laneSum(a1, lanes);
                    sum[(i0 + 2) * dim + j] += laneSum(a2, lanes);
                    sum[(i0 + 3) * dim + j] += laneSum(a3, lanes);
                } else {
                    for (int i = i0; i < i0 + rows; i++) {
                        FloatVector acc = FloatVector.zero(F);
                        for (int s = 0; s < tp; s += F.length()) {
                            acc = FloatVector.fromArray(F, xt, i * tp + s).fma(FloatVector.fromArray(F, xt, j * tp + s), acc);
                        }
                        sum[i * dim + j] += laneSum(acc, lanes);
                    }
                }
            }
        });
        tokens += t;
    }

    /** The lanes' sum in lane order: reduceLanes(ADD)'s order is unspecified and changes with JIT warm-up. */
    static double laneSum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0;
        for (float f : scratch) {
            s += f;
        }
        return s;
    }

    /** {@code H = 2/n sum x x^T}, full symmetric, row-major (all zeros before any token). */
    public double[] hessian() {
        double[] h = new double[dim * dim];
        double f = tokens == 0 ? 0 : 2.0 / tokens;
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                double v = sum[i * dim + j] * f;
                h[i * dim + j] = v;
                h[j * dim + i] = v;
            }
        }
        return h;
    }
}
