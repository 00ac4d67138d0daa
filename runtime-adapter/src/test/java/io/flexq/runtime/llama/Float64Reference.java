package io.flexq.runtime.llama;

/**
 * An independent Llama forward in float64, one token at a time, written for the tests only: plain loops over
 * {@link RefWeights}, no code shared with the runtime. Semantics: llama2.c / GGUF rope type 0 (adjacent pairs
 * (2i, 2i+1) of the first ropeDim dims of a head, inverse frequency theta^(-2i/ropeDim), optionally adjusted by the
 * Llama 3.1 rule as HF transformers states it), RMSNorm, grouped-query attention, SwiGLU.
 */
final class Float64Reference {

    private final RefWeights w;
    private final double[][][] keyCache;
    private final double[][][] valueCache;
    private final double[] invFreq;
    private final boolean rotateHalf;
    private int pos;

    /** GGUF / llama2.c semantics (adjacent pairs). */
    Float64Reference(RefWeights w, int maxPositions) {
        this(w, maxPositions, false);
    }

    /** @param rotateHalf pair dim i with i + ropeDim/2, as HF checkpoints expect */
    Float64Reference(RefWeights w, int maxPositions, boolean rotateHalf) {
        this.w = w;
        this.rotateHalf = rotateHalf;
        int kvDim = w.kvHeads() * w.headSize();
        keyCache = new double[w.layers()][maxPositions][kvDim];
        valueCache = new double[w.layers()][maxPositions][kvDim];
        invFreq = new double[w.ropeDim() / 2];
        for (int i = 0; i < invFreq.length; i++) {
            double inv = 1.0 / Math.pow(w.theta(), (2.0 * i) / w.ropeDim());
            if (w.llama3() != null) {
                double factor = w.llama3()[0], lowF = w.llama3()[1], highF = w.llama3()[2], old = w.llama3()[3];
                double wavelen = 2 * Math.PI / inv;
                if (wavelen > old / lowF) {
                    inv = inv / factor;
                } else if (!(wavelen < old / highF)) {
                    double smooth = (old / wavelen - lowF) / (highF - lowF);
                    inv = (1 - smooth) * inv / factor + smooth * inv;
                }
            }
            invFreq[i] = inv;
        }
    }

    /** Logits after feeding {@code token} at the next position. */
    double[] step(int token) {
        int dim = w.dim(), hs = w.headSize(), qDim = w.heads() * hs, kvDim = w.kvHeads() * hs;
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = w.emb()[token * dim + i];
        }
        for (int l = 0; l < w.layers(); l++) {
            double[] h = rmsnorm(x, w.attnNorm()[l]);
            double[] q = matvec(w.wq()[l], h, qDim, dim);
            double[] k = matvec(w.wk()[l], h, kvDim, dim);
            double[] v = matvec(w.wv()[l], h, kvDim, dim);
            rotate(q, w.heads());
            rotate(k, w.kvHeads());
            keyCache[l][pos] = k;
            valueCache[l][pos] = v;
            double[] att = new double[qDim];
            int perKv = w.heads() / w.kvHeads();
            for (int head = 0; head < w.heads(); head++) {
                int kvBase = (head / perKv) * hs;
                double[] s = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= pos; t++) {
                    double d = 0;
                    for (int i = 0; i < hs; i++) {
                        d += q[head * hs + i] * keyCache[l][t][kvBase + i];
                    }
                    s[t] = d / Math.sqrt(hs);
                    max = Math.max(max, s[t]);
                }
                double sum = 0;
                for (int t = 0; t <= pos; t++) {
                    s[t] = Math.exp(s[t] - max);
                    sum += s[t];
                }
                for (int t = 0; t <= pos; t++) {
                    for (int i = 0; i < hs; i++) {
                        att[head * hs + i] += s[t] / sum * valueCache[l][t][kvBase + i];
                    }
                }
            }
            double[] o = matvec(w.wo()[l], att, dim, qDim);
            for (int i = 0; i < dim; i++) {
                x[i] += o[i];
            }
            h = rmsnorm(x, w.ffnNorm()[l]);
            double[] a = matvec(w.w1()[l], h, w.hidden(), dim);
            double[] b = matvec(w.w3()[l], h, w.hidden(), dim);
            for (int i = 0; i < a.length; i++) {
                a[i] = a[i] / (1 + Math.exp(-a[i])) * b[i];
            }
            double[] d = matvec(w.w2()[l], a, dim, w.hidden());
            for (int i = 0; i < dim; i++) {
                x[i] += d[i];
            }
        }
        double[] out = matvec(w.cls(), rmsnorm(x, w.outNorm()), w.vocab(), dim);
        pos++;
        return out;
    }

    private void rotate(double[] vec, int nHeads) {
        for (int head = 0; head < nHeads; head++) {
            for (int i = 0; i < invFreq.length; i++) {
                double angle = pos * invFreq[i];
                int a = head * w.headSize() + (rotateHalf ? i : 2 * i);
                int b = rotateHalf ? a + invFreq.length : a + 1;
                double re = vec[a], im = vec[b];
                vec[a] = re * Math.cos(angle) - im * Math.sin(angle);
                vec[b] = re * Math.sin(angle) + im * Math.cos(angle);
            }
        }
    }

    private double[] rmsnorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + w.eps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * scale;
        }
        return out;
    }

    private static double[] matvec(float[] m, double[] x, int rows, int cols) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int c = 0; c < cols; c++) {
                acc += m[r * cols + c] * x[c];
            }
            y[r] = acc;
        }
        return y;
    }
}
