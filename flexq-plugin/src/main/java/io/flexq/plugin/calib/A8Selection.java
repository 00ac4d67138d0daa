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
     * @param predictedKld the additive prediction of the choice's KLD vs all-A8
     */
    public record Choice(Set<String> a8, double predictedKld) {
        public boolean isA8(String layer) {
            return a8.contains(layer);
        }
    }

    /** Selection by drop scores: the predicted KLD of all-A6 is the sum of the scores. */
    public static Choice choose(Map<String, Double> scores, Budget budget) {
        double sum = 0;
        for (Double v : scores.values()) {
            sum += v == null ? Double.NaN : v;
        }
        return choose(scores, budget, sum);
    }

    /**
     * Selection by any score of what A8 on a layer saves (drop scores, or A8 gains measured from the all-A6 side),
     * with the predicted KLD of a choice = {@code allA6} - sum of the scores of its A8 layers.
     */
    public static Choice choose(Map<String, Double> scores, Budget budget, double allA6) {
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
            // predicted(k) = allA6 - sum of the k largest scores
            int kKld = 0;
            double predicted = allA6;
            while (kKld < order.size() && predicted > target) {
                predicted -= order.get(kKld).getValue();
                kKld++;
            }
            k = Math.min(k, kKld);
        }
        Set<String> a8 = new LinkedHashSet<>();
        double predicted = allA6;
        for (int i = 0; i < k; i++) {
            a8.add(order.get(i).getKey());
            predicted -= order.get(i).getValue();
        }
        return new Choice(a8, predicted);
    }
}
