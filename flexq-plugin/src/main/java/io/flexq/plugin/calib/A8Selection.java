package io.flexq.plugin.calib;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which linear layers keep A8, given their sensitivity scores and a {@link Budget}.
 *
 * <p>Score s_i = mean KL divergence of the final next-token distribution between the all-A8 model and the
 * same model with only layer i at A6. Treating the damage of several A6 layers as additive (the first-order
 * picture, good while each s_i is small), the predicted KLD of a mixed model is sum over A6 layers of s_i,
 * and the best use of k A8 slots is the k layers of largest score. So:
 * <ol>
 *   <li>order layers by score, largest first (ties by name, for a deterministic file);</li>
 *   <li>k_kld = the fewest leading layers whose removal leaves sum(rest) <= target (0 if already met);</li>
 *   <li>k = min(k_kld, cap, number of layers with a positive score): a layer whose score is <= 0 gains
 *       nothing from A8.</li>
 * </ol>
 */
public final class A8Selection {

    private A8Selection() {
    }

    /**
     * @param a8           layers that keep A8, most sensitive first
     * @param predictedKld sum of the scores of the layers left at A6 (the additive prediction vs all-A8)
     */
    public record Choice(Set<String> a8, double predictedKld) {
        public boolean isA8(String layer) {
            return a8.contains(layer);
        }
    }

    public static Choice choose(Map<String, Double> scores, Budget budget) {
        for (var e : scores.entrySet()) {
            if (e.getValue() == null || e.getValue().isNaN()) {
                throw new IllegalArgumentException("layer " + e.getKey() + " has no sensitivity score");
            }
        }
        List<Map.Entry<String, Double>> order = new ArrayList<>(new LinkedHashMap<>(scores).entrySet());
        order.sort(Comparator.comparing((Map.Entry<String, Double> e) -> e.getValue()).reversed()
                .thenComparing(Map.Entry::getKey));
        int positive = (int) order.stream().filter(e -> e.getValue() > 0).count();
        int k = Math.min(budget.maxA8(order.size()), positive);
        if (budget.kldTarget().isPresent()) {
            double target = budget.kldTarget().getAsDouble();
            // suffix sums: rest[i] = sum of scores of order[i..]
            double[] rest = new double[order.size() + 1];
            for (int i = order.size() - 1; i >= 0; i--) {
                rest[i] = rest[i + 1] + order.get(i).getValue();
            }
            int kKld = 0;
            while (kKld < order.size() && rest[kKld] > target) {
                kKld++;
            }
            k = Math.min(k, kKld);
        }
        Set<String> a8 = new LinkedHashSet<>();
        double predicted = 0;
        for (int i = 0; i < order.size(); i++) {
            if (i < k) {
                a8.add(order.get(i).getKey());
            } else {
                predicted += order.get(i).getValue();
            }
        }
        return new Choice(a8, predicted);
    }
}
