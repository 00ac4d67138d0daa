package io.flexq.plugin.calib;

import io.flexq.plugin.eval.LogProbs;
import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightBackend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Layer-wise sensitivity of a W6 model to 6-bit activations.
 *
 * <p>For every linear layer i: score_i = mean over calibration positions p of KL(P_p || Q_p^(i)), where P_p is
 * the next-token distribution of the all-A8 model and Q_p^(i) that of the same model with only layer i at A6
 * (both with the same FQ6 weights, so the score isolates the activation precision of that one layer).
 *
 * <p>Optionally also the A8 gain of every layer in the opposite context: gain_i = KL(P || Q^(all A6)) -
 * KL(P || Q^(all A6 but i at A8)), i.e. how much keeping layer i at A8 helps a model whose other layers are A6.
 * The drop scores assume the layers' damages add up independently; they do not quite: measured on stories260K,
 * the ffn_down layers' A6 errors compound (KLD of paper's choice 0.0416 against 0.0430 for the top-8 drop scores,
 * 40 windows of WikiText-2), and ranking by gain, which sees every other layer at A6 as the final model mostly
 * does, picks them (0.0401). Cost: (1 + layers) forward passes over the calibration tokens, plus (1 + layers) for
 * the gains; windows run outermost so only one window's reference logits (ctx x vocab floats) are held at a time.
 */
public final class SensitivityAnalysis {

    private SensitivityAnalysis() {
    }

    /**
     * @param scores    drop scores by tensor name (forward order): mean KLD vs all-A8 with only that layer at A6
     * @param gains     A8 gains by tensor name (empty unless asked for): KLD of all-A6 minus KLD of all-A6 but that layer
     * @param allA6     mean KLD of the all-A6 model vs the all-A8 model (NaN unless gains were asked for)
     * @param positions calibration positions the means are over
     */
    public record Result(Map<String, Double> scores, Map<String, Double> gains, double allA6, long positions) {
    }

    @FunctionalInterface
    public interface Progress {
        void passDone(int done, int total, String what);
    }

    /**
     * Loads {@code quantized} (a model whose linear weights are FQ6) with every FQ6 matrix switchable between A8
     * and A6, through {@code backends} (e.g. every backend on the class path), and scores each linear layer.
     *
     * @param log diagnostics of the model load (backend choices)
     */
    public static Result run(ModelFile quantized, Backends backends, List<int[]> windows, boolean gains, Progress progress, Consumer<String> log) {
        SwitchableBackend switchable = new SwitchableBackend(backends, List.of(ActivationMode.A8, ActivationMode.A6), ActivationMode.A8);
        List<WeightBackend> all = new ArrayList<>();
        all.add(switchable);
        all.addAll(backends.all());
        try (Llama model = Llama.load(quantized, new Backends(all, log), List.of(), log)) {
            return run(model, switchable, windows, gains, progress);
        }
    }

    /**
     * @param model    the quantized model, loaded with {@code backend} at the front of its backends
     * @param backend  holds the model's FQ6 matrices, each loaded in A8 and A6
     * @param windows  calibration windows (token ids, each run from position 0 with a fresh cache)
     * @param gains    also measure the A8 gains (twice the passes)
     */
    public static Result run(Llama model, SwitchableBackend backend, List<int[]> windows, boolean gains, Progress progress) {
        List<String> layers = new ArrayList<>(backend.matrices().keySet());
        layers.sort(Comparator.comparingInt(LinearTensors::order));
        if (layers.isEmpty()) {
            throw new IllegalStateException("the model has no FQ6 matrices to analyse");
        }
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no calibration window (is the calibration text empty?)");
        }
        int vocab = model.config().vocabSize();
        int maxLen = windows.stream().mapToInt(w -> w.length).max().orElseThrow();
        double[] kldSum = new double[layers.size()];
        double[] gainSum = new double[layers.size()];
        double allA6Sum = 0;
        long positions = 0;
        int total = windows.size() * (1 + layers.size()) * (gains ? 2 : 1);
        int done = 0;
        try (LlamaSession session = model.newSession(maxLen, maxLen)) {
            for (int w = 0; w < windows.size(); w++) {
                int[] tokens = windows.get(w);
                backend.setAll(ActivationMode.A8);
                float[][] reference = forward(session, tokens);
                progress.passDone(++done, total, "window " + (w + 1) + " all-A8");
                for (int i = 0; i < layers.size(); i++) {
                    SwitchableBackend.Switchable m = backend.matrices().get(layers.get(i));
                    m.setMode(ActivationMode.A6);
                    try {
                        kldSum[i] += kldSum(reference, forward(session, tokens), vocab);
                    } finally {
                        m.setMode(ActivationMode.A8);
                    }
                    progress.passDone(++done, total, "window " + (w + 1) + " " + layers.get(i));
                }
                if (gains) {
                    backend.setAll(ActivationMode.A6);
                    double base = kldSum(reference, forward(session, tokens), vocab);
                    allA6Sum += base;
                    progress.passDone(++done, total, "window " + (w + 1) + " all-A6");
                    for (int i = 0; i < layers.size(); i++) {
                        SwitchableBackend.Switchable m = backend.matrices().get(layers.get(i));
                        m.setMode(ActivationMode.A8);
                        try {
                            gainSum[i] += base - kldSum(reference, forward(session, tokens), vocab);
                        } finally {
                            m.setMode(ActivationMode.A6);
                        }
                        progress.passDone(++done, total, "window " + (w + 1) + " gain " + layers.get(i));
                    }
                }
                positions += tokens.length;
            }
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        Map<String, Double> gainScores = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            scores.put(layers.get(i), kldSum[i] / positions);
            if (gains) {
                gainScores.put(layers.get(i), gainSum[i] / positions);
            }
        }
        return new Result(scores, gainScores, gains ? allA6Sum / positions : Double.NaN, positions);
    }

    /** Sum over positions of KLD(reference || logits) (PromotionAnalysis scores with it too). */
    static double kldSum(float[][] reference, float[][] logits, int vocab) {
        double sum = 0;
        for (int p = 0; p < logits.length; p++) {
            sum += LogProbs.kld(reference[p], logits[p], vocab);
        }
        return sum;
    }

    /** Every position's logits of tokens from position 0 of session. */
    static float[][] forward(LlamaSession session, int[] tokens) {
        session.rewind(0);
        return session.forwardAll(tokens, 0, tokens.length);
    }

    /**
     * Calibration windows from a token stream: {@code count} windows of {@code ctx} tokens at evenly spaced
     * starts (0, T/count, 2T/count, ...), each with its first token replaced by BOS; a text shorter than one
     * window gives one window of all its tokens.
     */
    public static List<int[]> windows(int[] tokens, int count, int ctx, int bos) {
        List<int[]> out = new ArrayList<>();
        if (tokens.length == 0) {
            return out;
        }
        if (tokens.length <= ctx) {
            int[] w = tokens.clone();
            w[0] = bos;
            out.add(w);
            return out;
        }
        int n = Math.max(1, count);
        long stride = Math.max(ctx, (long) (tokens.length - ctx) / Math.max(1, n - 1));
        for (int i = 0; i < n; i++) {
            long start = i * stride;
            if (start + ctx > tokens.length) {
                break;
            }
            int[] w = new int[ctx];
            System.arraycopy(tokens, (int) start, w, 0, ctx);
            w[0] = bos;
            out.add(w);
        }
        return out;
    }
}
