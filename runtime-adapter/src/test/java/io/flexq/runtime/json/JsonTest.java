package io.flexq.runtime.json;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void parsesEveryValueKindWithOrderKept() {
        Object v = Json.parse("{\"b\": [1, -2.5e1, true, false, null], \"a\": \"x\\u00e9\\n\\\"\", \"big\": 12345678901234567890}");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("b", "a", "big"), List.copyOf(m.keySet()));
        List<?> b = (List<?>) m.get("b");
        assertEquals(1L, b.get(0));
        assertEquals(-25.0, b.get(1));
        assertEquals(Boolean.TRUE, b.get(2));
        assertEquals(Boolean.FALSE, b.get(3));
        assertNull(b.get(4));
        assertEquals("x\u00e9\n\"", m.get("a"));
        assertEquals(1.2345678901234567e19, (Double) m.get("big"), 1e4);
    }

    @Test
    void malformedInputNamesSourceAndOffset() {
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "01x", "[1] 2", "{\"a\":tru}", "\"\\q\""}) {
            var e = assertThrows(Json.JsonException.class, () -> Json.parse(bad, "cfg.json"), bad);
            assertTrue(e.getMessage().startsWith("cfg.json: "), e.getMessage());
            assertTrue(e.getMessage().contains("at character"), e.getMessage());
        }
    }

    @Test
    void deepNestingIsRefusedNotAStackOverflow() {
        String deep = "[".repeat(100_000);
        assertThrows(Json.JsonException.class, () -> Json.parse(deep));
    }
}
