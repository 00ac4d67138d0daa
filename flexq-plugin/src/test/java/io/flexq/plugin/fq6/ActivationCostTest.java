package io.flexq.plugin.fq6;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationCostTest {

    @Test
    void defaultIsA8WhereNoTargetGainsFromA6AndAutoWhereOneDoes() {
        assertEquals(Preset.A8, ActivationCost.defaultPreset(ActivationCost.paths(ActivationCost.DEFAULT_TARGETS)));
        assertEquals(Preset.A8, ActivationCost.defaultPreset(ActivationCost.paths(List.of("cpu"))));
        assertEquals(Preset.AUTO, ActivationCost.defaultPreset(ActivationCost.paths(List.of("cpu", "btc"))));
        assertThrows(IllegalArgumentException.class, () -> ActivationCost.path("tpu"));
    }

    @Test
    void predictedTimeWeighsLayersByTheirMultiplyAdds() {
        Map<String, Long> macs = new LinkedHashMap<>();
        macs.put("a", 1000L);
        macs.put("b", 3000L);
        Map<String, Boolean> a6 = Map.of("a", false, "b", true);
        // (1000 * 1 + 3000 * 0.93) / 4000
        assertEquals(0.9475, ActivationCost.relativeTime(ActivationCost.path("btc"), macs, a6), 1e-12);
        assertEquals(1.0, ActivationCost.relativeTime(ActivationCost.path("cpu"), macs, a6), 1e-12);
        String line = ActivationCost.describeGain(List.of(ActivationCost.path("btc")), macs, a6).getFirst();
        assertTrue(line.contains("5.5% faster"), line); // 1 / 0.9475 - 1 = 5.54%
    }
}
