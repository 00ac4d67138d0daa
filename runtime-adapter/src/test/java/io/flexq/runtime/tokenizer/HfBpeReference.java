package io.flexq.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-only, deliberately naive: Hugging Face's BPE model as its documentation describes it, for a tokenizer.json with
 * {@code byte_fallback}. The input (already normalized: spaces as "▁", dummy prefix) is one word; each code point is its
 * vocabulary id, or, when it has none, its UTF-8 bytes as {@code <0xNN>} ids; then, while some adjacent pair is in the
 * merges, the pair of lowest rank (leftmost of equal ones) becomes the merged piece. O(n^2) per call: feed it lines.
 */
final class HfBpeReference {

    private final Map<String, Integer> vocab;
    private final Map<String, Integer> rank = new HashMap<>();

    HfBpeReference(Map<String, Integer> vocab, List<String[]> merges) {
        this.vocab = vocab;
        for (int r = 0; r < merges.size(); r++) {
            rank.putIfAbsent(merges.get(r)[0] + "\u0000" + merges.get(r)[1], r);
        }
    }

    List<Integer> encodeNormalized(String word) {
        List<String> sym = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        word.codePoints().forEach(cp -> {
            String c = Character.toString(cp);
            Integer id = vocab.get(c);
            if (id != null) {
                sym.add(c);
                ids.add(id);
            } else {
                for (byte b : c.getBytes(StandardCharsets.UTF_8)) {
                    String t = String.format("<0x%02X>", b & 0xFF);
                    sym.add(t);
                    ids.add(vocab.get(t));
                }
            }
        });
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = rank.get(sym.get(i) + "\u0000" + sym.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                return ids;
            }
            String merged = sym.get(best) + sym.get(best + 1);
            sym.set(best, merged);
            ids.set(best, vocab.get(merged));
            sym.remove(best + 1);
            ids.remove(best + 1);
        }
    }
}
