package io.flexq.samples.bench;

import io.flexq.plugin.calib.HessianAccumulator;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantizer;

import java.util.Locale;
import java.util.Random;

/**
 * The cost of GPTQ's two parts on Llama-3.1-8B-shaped inputs, measured on synthetic layers (random weights and
 * activations; the cost does not depend on the values), wall clock on the calling machine:
 * <ul>
 *   <li>Hessian accumulation: seconds per calibration token for one input of width K (K^2/2 multiply-adds);</li>
 *   <li>GPTQ of one matrix of K columns: a factorisation per input (Cholesky + triangular inverse, ~K^3 in double)
 *       plus a part linear in the rows (each row ~K^2): measured at two row counts, split into the two.</li>
 * </ul>
 * Prints the measurements and the extrapolation to a whole 8B model (32 blocks; K = 4096 for q/k/v, o, gate/up and
 * the head, 14336 for down), with the memory the Hessians take. Times are process CPU seconds (all threads), which a
 * machine shared with other jobs inflates far less than the wall clock; divide by the cores for a wall-clock estimate.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -Xmx6g -cp "samples/target/classes:$(cat samples/target/classpath.txt)" \
 *       io.flexq.samples.bench.GptqCost
 * </pre>
 */
public final class GptqCost {

    private GptqCost() {
    }

    public static void main(String[] args) {
        Random rnd = new Random(8);
        double acc4096 = accumulate(4096, 128, rnd);
        double acc14336 = accumulate(14336, 128, rnd);
        System.out.printf(Locale.ROOT, "hessian accumulation (CPU time): K=4096 %.3f ms/token, K=14336 %.3f ms/token%n", acc4096 * 1e3, acc14336 * 1e3);

        double[] h = hessian(4096, 1024, rnd);
        Gptq gptq = new Gptq(WeightQuantizer.clipping(), Gptq.DEFAULT_DAMPING);
        double t128 = time(gptq, h, 4096, 128, rnd);
        double t512 = time(gptq, h, 4096, 512, rnd);
        double perRow = (t512 - t128) / (512 - 128);
        double factor = Math.max(0, t128 - 128 * perRow);
        System.out.printf(Locale.ROOT, "gptq (CPU time) K=4096: 128 rows %.1f s, 512 rows %.1f s -> factorisation %.1f s + %.2f ms/row%n", t128, t512, factor, perRow * 1e3);
        double[] h2 = hessian(2048, 512, rnd);
        double f2a = time(gptq, h2, 2048, 64, rnd);
        double f2b = time(gptq, h2, 2048, 256, rnd);
        double perRow2 = (f2b - f2a) / (256 - 64);
        double factor2 = Math.max(0, f2a - 64 * perRow2);
        System.out.printf(Locale.ROOT, "gptq K=2048: factorisation %.2f s + %.3f ms/row (K^3 law predicts %.2f s, K^2 law %.3f ms/row from K=4096)%n",
                factor2, perRow2 * 1e3, factor / 8, perRow * 1e3 / 4);

        // extrapolation: K=14336 factorisation by K^3, rows by K^2
        double s = 14336.0 / 4096;
        double factorDown = factor * s * s * s;
        double perRowDown = perRow * s * s;
        int blocks = 32;
        double perBlock = 3 * factor + factorDown // attn_in, attn_out, ffn_in, down
                + perRow * (4096 + 1024 + 1024 + 4096 + 14336 + 14336) + perRowDown * 4096;
        double head = factor + perRow * 128256;
        double accPerToken = blocks * (3 * acc4096 + acc14336) + acc4096;
        long hessBytes = (long) blocks * (3L * 4096 * 4096 + 14336L * 14336) * 8 + 4096L * 4096 * 8;
        System.out.printf(Locale.ROOT, "8B extrapolation, CPU seconds: GPTQ of 224 linears %.0f s + head %.0f s; Hessian accumulation %.1f s per 1000 "
                + "calibration tokens (32,768 tokens: %.0f s); Hessians held at once %.1f GiB (one block at a time: %.2f GiB)%n",
                blocks * perBlock, head, accPerToken * 1000, accPerToken * 32768, hessBytes / 1073741824.0,
                ((3L * 4096 * 4096 + 14336L * 14336) * 8) / 1073741824.0);
    }

    private static double accumulate(int k, int tokens, Random rnd) {
        HessianAccumulator a = new HessianAccumulator(k);
        float[] x = new float[tokens * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        a.add(x, tokens); // warm-up (JIT), then the timed pass
        double t0 = cpu();
        a.add(x, tokens);
        return (cpu() - t0) / tokens;
    }

    /** CPU seconds of this process, every thread. */
    private static double cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    private static double[] hessian(int k, int tokens, Random rnd) {
        HessianAccumulator a = new HessianAccumulator(k);
        float[] x = new float[tokens * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        a.add(x, tokens);
        return a.hessian();
    }

    private static double time(Gptq gptq, double[] h, int cols, int rows, Random rnd) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() / Math.sqrt(cols));
        }
        double t0 = cpu();
        gptq.quantize("synthetic", w, rows, cols, h);
        return cpu() - t0;
    }
}
