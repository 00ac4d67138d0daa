package io.flexq.plugin.quant;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The rounding rule of docs/FQ6.md section 1, against BigDecimal's HALF_UP (ties away from zero). */
class RoundingTest {

    /** Independent rule: exact decimal value of the float, rounded half away from zero, then clamped. */
    static int expected(float v, int lo, int hi) {
        if (Float.isNaN(v)) {
            return 0;
        }
        if (Float.isInfinite(v)) {
            return v > 0 ? hi : lo;
        }
        BigDecimal r = new BigDecimal(v).setScale(0, RoundingMode.HALF_UP);
        return r.max(BigDecimal.valueOf(lo)).min(BigDecimal.valueOf(hi)).intValueExact();
    }

    @Test
    void tiesGoAwayFromZero() {
        assertEquals(1, Rounding.code(0.5f, -128, 127));
        assertEquals(-1, Rounding.code(-0.5f, -128, 127));
        assertEquals(2, Rounding.code(1.5f, -128, 127));
        assertEquals(3, Rounding.code(2.5f, -128, 127));
        assertEquals(-3, Rounding.code(-2.5f, -128, 127));
        assertEquals(-31, Rounding.code(-30.5f, -32, 31));
        assertEquals(3f, Rounding.roundHalfAwayFromZero(2.5f));
        assertEquals(-3f, Rounding.roundHalfAwayFromZero(-2.5f));
    }

    @Test
    void valuesJustBelowOneHalfRoundDown() {
        float below = Math.nextDown(0.5f); // 0.49999997f: in float arithmetic below + 0.5f would round up to 1
        assertEquals(0, Rounding.code(below, -128, 127));
        assertEquals(0, Rounding.code(-below, -128, 127));
        assertEquals(1, Rounding.code(Math.nextDown(1.5f), -128, 127));
        assertEquals(-1, Rounding.code(Math.nextUp(-1.5f), -128, 127));
        assertEquals(2, Rounding.code(Math.nextUp(1.5f), -128, 127));
    }

    @Test
    void clampsToTheCodeRange() {
        assertEquals(31, Rounding.code(31.49f, -32, 31));
        assertEquals(31, Rounding.code(31.5f, -32, 31));
        assertEquals(-32, Rounding.code(-31.5f, -32, 31));
        assertEquals(-32, Rounding.code(-32.5f, -32, 31));
        assertEquals(-32, Rounding.code(-1e9f, -32, 31));
        assertEquals(127, Rounding.code(127.5f, -128, 127));
        assertEquals(-128, Rounding.code(-127.5f, -128, 127));
        assertEquals(-128, Rounding.code(-128.5f, -128, 127));
        assertEquals(127, Rounding.code(Float.POSITIVE_INFINITY, -128, 127));
        assertEquals(-128, Rounding.code(Float.NEGATIVE_INFINITY, -128, 127));
        assertEquals(0, Rounding.code(Float.NaN, -128, 127));
        assertEquals(0, Rounding.code(-0.0f, -32, 31));
    }

    @Test
    void randomValuesAndNearTiesMatchBigDecimal() {
        long seed = 20250801L;
        Random rnd = new Random(seed);
        for (int i = 0; i < 200_000; i++) {
            float v;
            switch (i % 4) {
                case 0 -> v = (rnd.nextFloat() * 2 - 1) * 300f;
                case 1 -> v = (rnd.nextInt(401) - 200) + 0.5f;
                case 2 -> v = Math.nextUp((rnd.nextInt(401) - 200) + 0.5f);
                default -> v = Math.nextDown((rnd.nextInt(401) - 200) + 0.5f);
            }
            int lo = (i & 1) == 0 ? -32 : -128, hi = (i & 1) == 0 ? 31 : 127;
            assertEquals(expected(v, lo, hi), Rounding.code(v, lo, hi), "seed " + seed + ", v = " + v);
        }
    }
}
