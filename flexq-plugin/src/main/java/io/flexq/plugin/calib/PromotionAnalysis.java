package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What storing one linear layer in a wider type (Q8_0) instead of FQ6 buys, measured on the output: for every
 * linear i, gain_i = KL(P || Q) - KL(P || Q^(i)), mean over the calibration positions, where P is the next-token
 * distribution of the unquantized model, Q that of the quantized model as it will be written (FQ6 linears in their
 * activation modes, quantized head) and Q^(i) the same with only layer i in the wider type. The gain is measured
 * where it counts (the final distribution, through every later layer and the head) rather than by a proxy such as
 * the layer's own output error, which cannot compare an attn_v with an ffn_down.
 *
 * <p>Cost: (2 + layers) forward passes per window (reference, quantized, one per layer); windows run outermost so
 * one window's reference logits are held at a time. Deterministic: forward passes with fixed reduction orders, sums
 * over windows and positions in order.
 */
public final class PromotionAnalysis {

    private PromotionAnalysis() {
    }

    /**
     * @param gains     gain by tensor name, in forward order (may be negative: noise, or a layer whose FQ6 error
     *                  happens to cancel another's)
     * @param baseKld   mean KLD of the quantized model vs the reference
     * @param positions calibration positions the means are over
     */
    public record Result(Map<String, Double> gains, double baseKld, long positions) {
    }

    /**
     * @param reference    the unquantized model (the KLD reference)
     * @param quantized    the model as it will be written, its candidate linears FQ6
     * @param widerType    the type of {@code wider} (e.g. Q8_0)
     * @param wider        each candidate's bytes in {@code widerType}, by tensor name
     */
    public static Result run(ModelFile reference, ModelFile quantized, TensorType widerType, Map<String, byte[]> wider, Backends backends,
                             List<int[]> windows, SensitivityAnalysis.Progress progress, Consumer<String> log) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no calibration window (is the calibration text empty?)");
        }
        PromotableBackend promotable = new PromotableBackend(backends, widerType, wider);
        List<WeightBackend> all = new ArrayList<>();
        all.add(promotable);
        all.addAll(backends.all());
        int maxLen = windows.stream().mapToInt(w -> w.length).max().orElseThrow();
        try (Llama ref = Llama.load(reference, backends, List.of(), log);
             Llama model = Llama.load(quantized, new Backends(all, log), List.of(), log);
             LlamaSession refSession = ref.newSession(maxLen, maxLen);
             LlamaSession session = model.newSession(maxLen, maxLen)) {
            List<String> layers = new ArrayList<>(promotable.matrices().keySet());
            layers.sort(Comparator.comparingInt(LinearTensors::order));
            if (layers.size() != wider.size()) {
                throw new IllegalStateException("expected " + wider.size() + " FQ6 linears to switch, the model loaded " + layers.size());
            }
            int vocab = model.config().vocabSize();
            double[] gainSum = new double[layers.size()];
            double baseSum = 0;
            long positions = 0;
            int total = windows.size() * (2 + layers.size());
            int done = 0;
            for (int w = 0; w < windows.size(); w++) {
                int[] tokens = windows.get(w);
                float[][] p = SensitivityAnalysis.forward(refSession, tokens);
                progress.passDone(++done, total, "window " + (w + 1) + " reference");
                double base = SensitivityAnalysis.kldSum(p, SensitivityAnalysis.forward(session, tokens), vocab);
                baseSum += base;
                progress.passDone(++done, total, "window " + (w + 1) + " quantized");
                for (int i = 0; i < layers.size(); i++) {
                    PromotableBackend.Promotable m = promotable.matrices().get(layers.get(i));
                    m.promote(true);
                    try {
                        gainSum[i] += base - SensitivityAnalysis.kldSum(p, SensitivityAnalysis.forward(session, tokens), vocab);
                    } finally {
                        m.promote(false);
                    }
                    progress.passDone(++done, total, "window " + (w + 1) + " " + layers.get(i));
                }
                positions += tokens.length;
            }
            Map<String, Double> gains = new LinkedHashMap<>();
            for (int i = 0; i < layers.size(); i++) {
                gains.put(layers.get(i), gainSum[i] / positions);
            }
            return new Result(gains, baseSum / positions, positions);
        }
    }

}
