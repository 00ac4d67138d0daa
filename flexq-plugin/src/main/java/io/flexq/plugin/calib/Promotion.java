package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.LinearTensors;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * Which linear layers to store in the wider type under a file-size budget, given each one's measured gain
 * ({@link PromotionAnalysis}) and the bytes it adds.
 *
 * <p>A knapsack; solved greedily, which is near-optimal here because every item is small against the budget:
 * layers in order of gain per added byte, largest first (a layer adding no bytes first; ties: forward order, block then q, k, v, o, gate, up, down;
 * then name), each taken if the file with it still fits. A layer with a gain <= 0 is never taken. The fit is
 * checked on the exact file size ({@code sizeOf}: the whole GGUF with that set of layers promoted, metadata and
 * alignment padding included), so the written file never exceeds the budget.
 */
public final class Promotion {

    private Promotion() {
    }

    /**
     * @param promoted      the promoted layers, in the order they were taken
     * @param fileBytes     the exact size of the file with them
     * @param predictedGain sum of their gains (the additive prediction of the KLD they save)
     */
    public record Choice(Set<String> promoted, long fileBytes, double predictedGain) {
    }

    /**
     * @param gains      measured gain by layer
     * @param addedBytes bytes each layer adds when promoted (for the ranking; <= 0 ranks first)
     * @param budget     the largest file size allowed
     * @param sizeOf     exact file size with a set of promoted layers
     * @throws IllegalArgumentException if the file is over the budget with no layer promoted
     */
    public static Choice choose(Map<String, Double> gains, Map<String, Long> addedBytes, long budget, ToLongFunction<Set<String>> sizeOf) {
        long base = sizeOf.applyAsLong(Set.of());
        if (base > budget) {
            throw new IllegalArgumentException("the file is " + base + " bytes with no layer promoted, over the budget of " + budget);
        }
        List<String> order = new ArrayList<>();
        for (var e : gains.entrySet()) {
            Long added = addedBytes.get(e.getKey());
            if (added == null) {
                throw new IllegalArgumentException("layer " + e.getKey() + " has no byte count");
            }
            if (e.getValue().isNaN()) {
                throw new IllegalArgumentException("layer " + e.getKey() + " has no measured gain");
            }
            if (e.getValue() > 0) {
                order.add(e.getKey());
            }
        }
        // a layer that adds no bytes (small rows, where FQ6's 128-groups are padded) comes first: its gain is free
        order.sort(Comparator.comparingDouble((String n) -> addedBytes.get(n) <= 0 ? Double.NEGATIVE_INFINITY : -gains.get(n) / addedBytes.get(n))
                .thenComparingInt(LinearTensors::order).thenComparing(Comparator.naturalOrder()));
        Set<String> taken = new LinkedHashSet<>();
        long size = base;
        double gain = 0;
        for (String n : order) {
            taken.add(n);
            long s = sizeOf.applyAsLong(taken);
            if (s <= budget) {
                size = s;
                gain += gains.get(n);
            } else {
                taken.remove(n);
            }
        }
        return new Choice(Collections.unmodifiableSet(taken), size, gain);
    }
}
