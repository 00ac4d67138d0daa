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
 * ample) added to the double sum. Rows i run in parallel; the lower triangle is filled by {@link #hessian()}.
 * Not thread-safe: a forward pass feeds it from one thread.
 */
public final class HessianAccumulator {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final int dim;
    private final double[] sum;
    private long tokens;

    public HessianAccumulator(int dim) {
        if (dim <= 0 || (long) dim * dim > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("Hessian dimension " + dim + " is out of range");
        }
        this.dim = dim;
        this.sum = new double[dim * dim];
    }

    public int dim() {
        return dim;
    }

    /** Tokens seen so far. */
    public long tokens() {
        return tokens;
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
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("calibration activation is " + v + " (the model's forward pass overflowed?)");
            }
        }
        // xt[i][t] = x[t][i], padded to a whole number of vectors with zeros
        int tp = (t + F.length() - 1) / F.length() * F.length();
        float[] xt = new float[dim * tp];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < dim; i++) {
                xt[i * tp + s] = x[s * dim + i];
            }
        }
        IntStream.range(0, dim).parallel().forEach(i -> {
            int base = i * dim;
            for (int j = i; j < dim; j++) {
                FloatVector acc = FloatVector.zero(F);
                for (int s = 0; s < tp; s += F.length()) {
                    acc = FloatVector.fromArray(F, xt, i * tp + s).fma(FloatVector.fromArray(F, xt, j * tp + s), acc);
                }
                sum[base + j] += laneSum(acc);
            }
        });
        tokens += t;
    }

    /** The lanes' sum in lane order: reduceLanes(ADD)'s order is unspecified and changes with JIT warm-up. */
    private static double laneSum(FloatVector v) {
        float[] lanes = v.toArray();
        float s = 0;
        for (float f : lanes) {
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
