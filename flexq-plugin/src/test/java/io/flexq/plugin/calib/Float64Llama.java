package io.flexq.plugin.calib;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;

/**
 * A Llama forward in float64 over a {@link ModelFile}'s tensors (any type that dequantizes rows), written for the
 * tests only, sharing no code with the runtime: RMSNorm, rope on adjacent pairs (GGUF semantics, theta 10000 unless
 * the metadata says otherwise), grouped-query attention (query head {@code h} reads KV head {@code h / (heads /
 * kvHeads)}), SwiGLU. Whole sequences from position 0; returns the logits of every position.
 */
final class Float64Llama {

    private Float64Llama() {
    }

    static double[][] logits(ModelFile m, int[] tokens) {
        var md = m.metadata();
        int dim = md.getInt("llama.embedding_length"), blocks = md.getInt("llama.block_count");
        int heads = md.getInt("llama.attention.head_count"), kvHeads = md.getInt("llama.attention.head_count_kv", heads);
        int hs = dim / heads, kvDim = kvHeads * hs, group = heads / kvHeads;
        double eps = md.getDouble("llama.attention.layer_norm_rms_epsilon", 1e-5);
        double theta = md.getDouble("llama.rope.freq_base", 10000.0);
        double[][] emb = rows(m.tensor("token_embd.weight"));
        double[][] head = m.tensors().containsKey("output.weight") ? rows(m.tensor("output.weight")) : emb;
        int n = tokens.length;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = emb[tokens[t]].clone();
        }
        for (int b = 0; b < blocks; b++) {
            String p = "blk." + b + ".";
            double[] an = rows(m.tensor(p + "attn_norm.weight"))[0];
            double[][] wq = rows(m.tensor(p + "attn_q.weight")), wk = rows(m.tensor(p + "attn_k.weight")), wv = rows(m.tensor(p + "attn_v.weight"));
            double[][] wo = rows(m.tensor(p + "attn_output.weight"));
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsnorm(x[t], an, eps);
                q[t] = rope(matvec(wq, h), t, hs, theta);
                k[t] = rope(matvec(wk, h), t, hs, theta);
                v[t] = matvec(wv, h);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[heads * hs];
                for (int qh = 0; qh < heads; qh++) {
                    int kv = qh / group * hs;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < hs; i++) {
                            d += q[t][qh * hs + i] * k[u][kv + i];
                        }
                        s[u] = d / Math.sqrt(hs);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) {
                        s[u] = Math.exp(s[u] - max);
                        sum += s[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < hs; i++) {
                            att[qh * hs + i] += s[u] / sum * v[u][kv + i];
                        }
                    }
                }
                add(x[t], matvec(wo, att));
            }
            double[] fn = rows(m.tensor(p + "ffn_norm.weight"))[0];
            double[][] w1 = rows(m.tensor(p + "ffn_gate.weight")), w3 = rows(m.tensor(p + "ffn_up.weight")), w2 = rows(m.tensor(p + "ffn_down.weight"));
            for (int t = 0; t < n; t++) {
                double[] h = rmsnorm(x[t], fn, eps);
                double[] a = matvec(w1, h), c = matvec(w3, h);
                for (int i = 0; i < a.length; i++) {
                    a[i] = a[i] / (1 + Math.exp(-a[i])) * c[i];
                }
                add(x[t], matvec(w2, a));
            }
        }
        double[] on = rows(m.tensor("output_norm.weight"))[0];
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = matvec(head, rmsnorm(x[t], on, eps));
        }
        return out;
    }

    private static double[][] rows(TensorEntry t) {
        int rows = Math.toIntExact(t.rows()), cols = Math.toIntExact(t.cols());
        double[][] out = new double[rows][cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            t.type().dequantizeRow(t.data(), r, cols, row, 0);
            for (int c = 0; c < cols; c++) {
                out[r][c] = row[c];
            }
        }
        return out;
    }

    private static double[] rmsnorm(double[] x, double[] w, double eps) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * w[i];
        }
        return out;
    }

    private static double[] rope(double[] v, int pos, int hs, double theta) {
        for (int h = 0; h < v.length / hs; h++) {
            for (int i = 0; i < hs / 2; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / hs);
                int a = h * hs + 2 * i;
                double re = v[a], im = v[a + 1];
                v[a] = re * Math.cos(angle) - im * Math.sin(angle);
                v[a + 1] = re * Math.sin(angle) + im * Math.cos(angle);
            }
        }
        return v;
    }

    private static double[] matvec(double[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double acc = 0;
            for (int c = 0; c < x.length; c++) {
                acc += w[r][c] * x[c];
            }
            y[r] = acc;
        }
        return y;
    }

    private static void add(double[] x, double[] d) {
        for (int i = 0; i < x.length; i++) {
            x[i] += d[i];
        }
    }
}
