package io.flexq.plugin.calib;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class A8SelectionTest {

    private static Map<String, Double> scores() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("blk.0.attn_q.weight", 0.001);
        s.put("blk.0.ffn_down.weight", 0.020);
        s.put("blk.1.attn_v.weight", 0.004);
        s.put("blk.1.ffn_down.weight", 0.010);
        s.put("blk.1.ffn_up.weight", 0.0);
        s.put("blk.2.ffn_gate.weight", -0.0001);
        s.put("blk.2.attn_k.weight", 0.002);
        s.put("blk.2.ffn_down.weight", 0.003);
        return s;
    }

    @Test
    void shareBudgetKeepsA8OnTheMostSensitive() {
        // 25% of 8 layers = 2
        A8Selection.Choice c = A8Selection.choose(scores(), Budget.parse("a8=25%"));
        assertEquals(List.of("blk.0.ffn_down.weight", "blk.1.ffn_down.weight"), List.copyOf(c.a8()));
        assertEquals(0.001 + 0.004 + 0.0 - 0.0001 + 0.002 + 0.003, c.predictedKld(), 1e-15);
    }

    @Test
    void kldTargetTakesFewestLayersThatMeetIt() {
        // total 0.0399; removing 0.020 leaves 0.0199, then 0.010 leaves 0.0099, then 0.004 leaves 0.0059 <= 0.006
        A8Selection.Choice c = A8Selection.choose(scores(), Budget.parse("kld=0.006"));
        assertEquals(Set.of("blk.0.ffn_down.weight", "blk.1.ffn_down.weight", "blk.1.attn_v.weight"), c.a8());
        assertEquals(0.0059, c.predictedKld(), 1e-12);
        // already met: nothing needs A8
        assertEquals(Set.of(), A8Selection.choose(scores(), Budget.parse("kld=1")).a8());
    }

    @Test
    void capLimitsKldTargetAndZeroScoresNeverGetA8() {
        assertEquals(2, A8Selection.choose(scores(), Budget.parse("kld=0,a8=25%")).a8().size());
        // kld=0 with no cap: every layer with a positive score, but not the 0 and negative ones
        assertEquals(6, A8Selection.choose(scores(), Budget.parse("kld=0")).a8().size());
        assertEquals(6, A8Selection.choose(scores(), Budget.parse("a8=100%")).a8().size());
        assertEquals(1, A8Selection.choose(scores(), Budget.parse("a8=1")).a8().size());
    }

    /** Gains measured from the all-A6 side: predicted KLD = allA6 - sum of the chosen gains. */
    @Test
    void gainRankingWithMeasuredAllA6() {
        Map<String, Double> g = new LinkedHashMap<>();
        g.put("q", 0.01);
        g.put("down", 0.05);
        g.put("up", 0.02);
        // allA6 0.09: down -> 0.04, up -> 0.02 <= 0.025
        A8Selection.Choice c = A8Selection.choose(g, Budget.parse("kld=0.025"), 0.09);
        assertEquals(List.of("down", "up"), List.copyOf(c.a8()));
        assertEquals(0.02, c.predictedKld(), 1e-15);
    }

    @Test
    void tiesAreBrokenByName() {
        Map<String, Double> s = new LinkedHashMap<>();
        s.put("b", 1.0);
        s.put("a", 1.0);
        s.put("c", 0.5);
        assertEquals(List.of("a"), List.copyOf(A8Selection.choose(s, Budget.parse("a8=1")).a8()));
    }

    @Test
    void budgetSyntaxErrorsNameTheProblem() {
        assertEquals("a8=25%", Budget.DEFAULT.toString());
        assertEquals(14, Budget.parse("a8=25%").maxA8(56));
        assertEquals(0.01, Budget.parse("KLD=0.01").kldTarget().getAsDouble());
        var e = assertThrows(IllegalArgumentException.class, () -> Budget.parse("a8=abc%"));
        assertEquals("'a8=abc%': 'abc%' is not a number", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("bits=6"));
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("a8=150%"));
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("kld=-1"));
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("a8=2,a8=10%"));
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("nonsense"));
    }
}
