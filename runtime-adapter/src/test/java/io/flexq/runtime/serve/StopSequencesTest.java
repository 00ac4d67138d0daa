package io.flexq.runtime.serve;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stop strings on streamed text, against the plain rule: the output is the text before the first occurrence. */
class StopSequencesTest {

    /** Feeds text in the given pieces; returns what was sent (and finish() when no stop matched). */
    private static String feed(List<String> stops, List<String> pieces) {
        StopSequences s = new StopSequences(stops);
        StringBuilder out = new StringBuilder();
        for (String p : pieces) {
            out.append(s.accept(p));
            if (s.stopped()) {
                return out.toString();
            }
        }
        return out.append(s.finish()).toString();
    }

    /** The reference: cut the whole text at the earliest occurrence of any stop string. */
    private static String cut(String text, List<String> stops) {
        int first = text.length();
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0) {
                first = Math.min(first, at);
            }
        }
        return text.substring(0, first);
    }

    @Test
    void aStopStringSplitAcrossPiecesIsFoundAndNotSent() {
        assertEquals("Once upon a time", feed(List.of("\nThe"), List.of("Once", " upon a", " time\n", "Th", "e end")));
    }

    @Test
    void textThatOnlyStartsLikeAStopIsSentOnceItCannotBeOne() {
        StopSequences s = new StopSequences(List.of("END"));
        assertEquals("the ", s.accept("the EN"));   // "EN" may become END: held
        assertEquals("ENd", s.accept("d"));         // "ENd" cannot: sent
        assertFalse(s.stopped());
        assertEquals("", s.accept("E"));
        assertEquals("E", s.finish());              // generation ended: the held text goes out
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        assertEquals("a", feed(List.of("cd", "bc"), List.of("ab", "cd")));
    }

    @Test
    void randomTextAndPiecesAgreeWithCuttingTheWholeText() {
        SplittableRandom r = new SplittableRandom(8);
        for (int trial = 0; trial < 2000; trial++) {
            String text = randomText(r, 1 + r.nextInt(40));
            List<String> stops = List.of(randomText(r, 1 + r.nextInt(3)), randomText(r, 1 + r.nextInt(4)));
            List<String> pieces = new java.util.ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int n = Math.min(text.length() - i, r.nextInt(4)); // empty pieces too (a byte token mid-character)
                pieces.add(text.substring(i, i + n));
                i += n;
            }
            assertEquals(cut(text, stops), feed(stops, pieces), "seed 8, trial " + trial + ": text '" + text + "', stops " + stops + ", pieces " + pieces);
        }
    }

    @Test
    void anEmptyStopStringIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StopSequences(List.of("")));
    }

    @Test
    void afterAStopNothingMoreIsSent() {
        StopSequences s = new StopSequences(List.of("x"));
        assertEquals("ab", s.accept("abxcd"));
        assertTrue(s.stopped());
        assertEquals("", s.accept("more"));
    }

    private static String randomText(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("abc \n".charAt(r.nextInt(5)));
        }
        return b.toString();
    }
}
