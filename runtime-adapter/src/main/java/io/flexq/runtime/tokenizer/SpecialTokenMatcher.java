package io.flexq.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds special-token texts ("<|eot_id|>", "<s>") inside input text so they become single ids
 * instead of being tokenized as characters. Scans left to right and takes, at the first position
 * where any special text starts, the longest one that matches there.
 */
final class SpecialTokenMatcher {

    /** A match of token {@code id} covering text[start, end). */
    record Match(int start, int end, int id) {
    }

    private record Entry(String text, int id) {
    }

    private final Map<Character, Entry[]> byFirstChar = new HashMap<>();
    private final long[] firstChars = new long[1024]; // bitset over char values: quick reject

    /** @param tokens text to id; empty texts are ignored */
    SpecialTokenMatcher(Map<String, Integer> tokens) {
        Map<Character, List<Entry>> lists = new HashMap<>();
        tokens.forEach((text, id) -> {
            if (!text.isEmpty()) {
                lists.computeIfAbsent(text.charAt(0), c -> new ArrayList<>()).add(new Entry(text, id));
            }
        });
        lists.forEach((c, list) -> {
            list.sort(Comparator.comparingInt((Entry e) -> e.text.length()).reversed());
            byFirstChar.put(c, list.toArray(Entry[]::new));
            firstChars[c >>> 6] |= 1L << c;
        });
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** The first special token at or after {@code from}, or null. */
    Match next(String text, int from) {
        if (isEmpty()) {
            return null;
        }
        for (int i = from, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if ((firstChars[c >>> 6] & (1L << c)) == 0) {
                continue;
            }
            for (Entry e : byFirstChar.get(c)) {
                if (text.startsWith(e.text, i)) {
                    return new Match(i, i + e.text.length(), e.id);
                }
            }
        }
        return null;
    }
}
