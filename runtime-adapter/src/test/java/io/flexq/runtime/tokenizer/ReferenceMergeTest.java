package io.flexq.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The fast merge loops (pair tables, heap, stale-entry checks) against the textbook algorithms written
 * here with strings and quadratic scans: llama2.c's run.c encoder for SentencePiece, GPT-2's bpe()
 * for byte-level BPE (its merge ranks read straight from tokenizer.json). Inputs are windows of real
 * text (held-out books, WikiText) and random Unicode, with a fixed seed.
 */
class ReferenceMergeTest {

    private static final long SEED = 20251128L;

    /** Random windows of the two evaluation texts plus random strings over a mixed alphabet. */
    static List<String> samples(int count, int maxLength, long seed) throws IOException {
        String books = TestTokenizers.heldOutBooks();
        String wiki = TestTokenizers.wikiText();
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String source = i % 3 == 0 ? wiki : books;
            int start = r.nextInt(source.length() - maxLength);
            if (i % 3 == 2) {
                out.add(RandomText.unicode(r, 1 + r.nextInt(maxLength)));
            } else {
                int s = Character.isLowSurrogate(source.charAt(start)) ? start + 1 : start;
                int e = s + 1 + r.nextInt(maxLength);
                e = Character.isHighSurrogate(source.charAt(e - 1)) ? e + 1 : e;
                out.add(source.substring(s, e));
            }
        }
        return out;
    }

    @Test
    void sentencePieceMatchesLlama2cRunCEncoder() throws IOException {
        SentencePieceTokenizer tok = TestTokenizers.tok4096();
        Map<String, Integer> pieces = new HashMap<>();
        for (int id = 0; id < tok.vocabularySize(); id++) {
            if (tok.tokenType(id) == TokenType.NORMAL) {
                pieces.putIfAbsent(tok.tokenText(id), id);
            }
        }
        for (String text : samples(300, 200, SEED)) {
            assertArrayEquals(naiveSentencePiece(text, pieces, tok), tok.encode(text),
                    () -> "seed " + SEED + ", text '" + VocabTestVectors.show(text) + "'");
        }
    }

    /** run.c: dummy prefix, one symbol per code point, merge the best-scoring pair (first on ties) until none. */
    static int[] naiveSentencePiece(String text, Map<String, Integer> pieces, SentencePieceTokenizer tok) {
        List<String> sym = new ArrayList<>();
        ("▁" + text.replace(' ', '▁')).codePoints().forEach(c -> sym.add(Character.toString(c)));
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int at = -1;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer id = pieces.get(sym.get(i) + sym.get(i + 1));
                if (id != null && tok.score(id) > best) {
                    best = tok.score(id);
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            sym.set(at, sym.get(at) + sym.remove(at + 1));
        }
        List<Integer> ids = new ArrayList<>();
        for (String s : sym) {
            Integer id = pieces.get(s);
            if (id != null) {
                ids.add(id);
            } else {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    ids.add(3 + (b & 0xFF)); // llama2.c: byte pieces <0x00>.. start at id 3
                }
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void byteLevelBpeMatchesGpt2Bpe() throws IOException {
        ByteLevelBpeTokenizer tok = TestTokenizers.llama3();
        Map<?, ?> model = TestTokenizers.llama3JsonModel();
        Map<String, Integer> vocab = new HashMap<>();
        ((Map<?, ?>) model.get("vocab")).forEach((k, v) -> vocab.put((String) k, ((Long) v).intValue()));
        Map<String, Integer> ranks = new HashMap<>();
        List<?> merges = (List<?>) model.get("merges");
        for (int i = 0; i < merges.size(); i++) {
            ranks.putIfAbsent((String) merges.get(i), i);
        }
        for (String text : samples(300, 200, SEED + 1)) {
            List<Integer> want = new ArrayList<>();
            for (String word : PreTokenizer.LLAMA3.split(text, 0, text.length())) {
                want.addAll(gpt2Bpe(word, vocab, ranks));
            }
            assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), tok.encode(text),
                    () -> "seed " + (SEED + 1) + ", text '" + VocabTestVectors.show(text) + "'");
        }
    }

    /** GPT-2's encoder.py bpe(): merge every occurrence of the lowest-ranked pair, repeat; Llama 3 first tries the whole word. */
    static List<Integer> gpt2Bpe(String word, Map<String, Integer> vocab, Map<String, Integer> ranks) {
        List<String> sym = new ArrayList<>();
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            sym.add(String.valueOf(gpt2ByteChar(b & 0xFF)));
        }
        Integer whole = vocab.get(String.join("", sym));
        if (whole != null) {
            return List.of(whole); // ignore_merges
        }
        while (sym.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer r = ranks.get(sym.get(i) + " " + sym.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    first = sym.get(i);
                    second = sym.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < sym.size(); i++) {
                if (i + 1 < sym.size() && sym.get(i).equals(first) && sym.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(sym.get(i));
                }
            }
            sym = merged;
        }
        return sym.stream().map(vocab::get).toList();
    }

    /** bytes_to_unicode() from GPT-2's encoder.py, written out again independently of ByteLevel. */
    static char gpt2ByteChar(int b) {
        List<Integer> bs = new ArrayList<>();
        for (int i = '!'; i <= '~'; i++) bs.add(i);
        for (int i = 0xA1; i <= 0xAC; i++) bs.add(i);
        for (int i = 0xAE; i <= 0xFF; i++) bs.add(i);
        if (bs.contains(b)) {
            return (char) b;
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!bs.contains(i)) n++;
        }
        return (char) (256 + n);
    }

    @Test
    void gpt2ByteTableAgrees() {
        for (int b = 0; b < 256; b++) {
            assertArrayEquals(new int[] {gpt2ByteChar(b)}, new int[] {ByteLevel.charOf(b)}, "byte " + b);
        }
        assertArrayEquals(new char[] {'Ġ', 'Ċ'}, new char[] {ByteLevel.charOf(' '), ByteLevel.charOf('\n')});
    }
}
