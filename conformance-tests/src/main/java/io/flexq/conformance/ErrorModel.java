package io.flexq.conformance;

/**
 * How far a backend's fp32 output may lie from the float64 product of the decoded weights and the fp32
 * activations, per output {@code y[t][r]}, with {@code u = 2^-24} (fp32 unit roundoff) and {@code n = cols}.
 */
public sealed interface ErrorModel {

    /** Absolute slack for outputs whose terms are all zero or tiny (keeps the bound above fp32 underflow). */
    double TINY = 0x1p-100;
    double U = 0x1p-24;

    /**
     * The allowed error and the expected spread of the error of one output, given the decoded weight row
     * {@code w[wOff ..]} and the activation row {@code x[xOff ..]}, {@code cols} elements each.
     */
    Allowance allowance(float[] w, int wOff, float[] x, int xOff, int cols);

    /**
     * @param bound  the largest error a conforming backend can make on this output
     * @param sigma  the standard deviation of the error expected from activation quantization (0 when none)
     */
    record Allowance(double bound, double sigma) {
    }

    /**
     * fp32 activations dotted with weights that the kernel decodes to the same fp32 values as the type's
     * {@code dequantizeRow} (F32, F16, BF16, Q8_0, Q4_0, Q6_K on the CPU; FQ6 in W6A16). Any order of
     * fp32 multiply-adds, with or without FMA, in any blocking, satisfies the classical recursive-summation
     * bound {@code |y - y64| <= gamma_n * sum |w x|}, {@code gamma_n ~ n u}; the kit allows
     * {@code (n + 8) u sum |w x|}: the 8 covers a per-block scale applied after a partial sum
     * ({@code d * sum q x}) and a decode product that rounds (Q6_K's {@code d * sc * q} can need 25 bits).
     */
    record FloatDot() implements ErrorModel {
        @Override
        public Allowance allowance(float[] w, int wOff, float[] x, int xOff, int cols) {
            double s = 0;
            for (int k = 0; k < cols; k++) {
                s += Math.abs((double) w[wOff + k] * x[xOff + k]);
            }
            return new Allowance((cols + 8) * U * s + TINY, 0);
        }

        @Override
        public String toString() {
            return "fp32 dot, |e| <= (n + 8) u sum|w x|";
        }
    }

    /**
     * Activations rounded to nearest to a float of {@code bits} significant bits (bf16: 8, as llama.cpp's BF16 matmuls
     * and the CPU backend's BF16 prompts of 4+ tokens, NativeBf16), then an fp32 dot of the rounded values. Rounding
     * moves each activation by at most {@code 2^-bits |x|}, so
     * <pre>
     *   |y - y64| <= 2^-bits sum |w x| + (n + 8) u (1 + 2^-bits) sum |w x| + sum_{|w| < 2^-126} |w x| (1 + 2^-bits)
     * </pre>
     * the last term for dot-product instructions that read subnormal inputs as zero ({@code vdpbf16ps}). The bound
     * contains {@link FloatDot}'s, so an fp32 backend passes it too. No spread check: a round-to-nearest grid this fine
     * is not told apart from a coarser one by the error's size over a few shapes.
     */
    record RoundedActivations(int bits) implements ErrorModel {
        @Override
        public Allowance allowance(float[] w, int wOff, float[] x, int xOff, int cols) {
            double s = 0, flushed = 0;
            for (int k = 0; k < cols; k++) {
                double p = Math.abs((double) w[wOff + k] * x[xOff + k]);
                s += p;
                flushed += Math.abs(w[wOff + k]) < 0x1p-126 ? p : 0;
            }
            double r = Math.scalb(1.0, -bits);
            return new Allowance(r * s + (cols + 8) * U * (1 + r) * s + flushed * (1 + r) + TINY, 0);
        }

        @Override
        public String toString() {
            return "activations rounded to " + bits + " significant bits, |e| <= 2^-" + bits + " sum|w x| + fp32 terms";
        }
    }

    /**
     * Activations quantized per token per {@code group} elements to {@code [-(Q+1), Q]} with
     * {@code sa = amax / Q} (docs/FQ6.md section 3), then an exact integer dot and an fp32 epilogue.
     *
     * <p>Rounding moves each activation by at most {@code sa / 2}; the fp32 computation of {@code sa},
     * {@code inv = Q / amax} and {@code x * inv} (three roundings of relative size u on a value below
     * {@code Q}) adds at most {@code 4 Q u sa}. So with {@code A_g = sum_{k in g} |w_k|}:
     * <pre>
     *   |y_exact(quantized x) - y64| <= sum_g sa_g (1/2 + 4 Q u) A_g
     * </pre>
     * and the fp32 epilogue (or an fp32 dot of the dequantized activations) adds at most
     * {@code (n + 4 groups + 8) u sum_k |w_k| (|x_k| + sa_g)}, since {@code |code * sa| <= |x| + sa}.
     *
     * <p>The bound is a worst case; the expected error is much smaller: rounding errors are about uniform
     * on {@code [-sa/2, sa/2]}, so {@code sigma^2 = sum_g sa_g^2 / 12 * sum_{k in g} w_k^2}. The kit also
     * checks that the root mean square of {@code e / sigma} over a shape is at most
     * {@link #MAX_RMS_SIGMAS}: a backend that used a coarser grid than asked (A6 codes for an A8 tensor,
     * a per-token instead of per-group scale) fails that, though it may stay within the worst case.
     */
    record QuantizedActivations(int q, int group) implements ErrorModel {

        /** Limit on {@code sqrt(mean((e / sigma)^2))}; about 1 for a conforming backend. */
        public static final double MAX_RMS_SIGMAS = 2.0;

        @Override
        public Allowance allowance(float[] w, int wOff, float[] x, int xOff, int cols) {
            double quant = 0, fp = 0, var = 0;
            for (int g0 = 0; g0 < cols; g0 += group) {
                int g1 = Math.min(cols, g0 + group);
                double amax = 0;
                for (int k = g0; k < g1; k++) {
                    amax = Math.max(amax, Math.abs(x[xOff + k]));
                }
                double sa = amax / q * (1 + 4 * U);
                double a = 0, b = 0, w2 = 0;
                for (int k = g0; k < g1; k++) {
                    double wk = Math.abs(w[wOff + k]);
                    a += wk;
                    b += wk * (Math.abs(x[xOff + k]) + sa);
                    w2 += wk * wk;
                }
                quant += sa * (0.5 + 4 * q * U) * a;
                fp += b;
                var += sa * sa / 12 * w2;
            }
            int groups = (cols + group - 1) / group;
            return new Allowance(quant + (cols + 4.0 * groups + 8) * U * fp + TINY, Math.sqrt(var));
        }

        @Override
        public String toString() {
            return "activations quantized to Q = " + q + " per " + group + "-group, |e| <= sum_g sa_g/2 sum|w| + fp32 terms";
        }
    }
}
