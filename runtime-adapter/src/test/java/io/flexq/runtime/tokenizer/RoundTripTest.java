package io.flexq.runtime.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * decode(encode(text)) == text for both families, on random Unicode and on real text; and the
 * streaming decoder, fed one token at a time, prints exactly the same text without ever splitting a character.
 */
class RoundTripTest {

    private static final long SEED = 7L;
    static List<Tokenizer> tokenizers;

    @BeforeAll
    static void load() {
        tokenizers = List.of(TestTokenizers.tok512(), TestTokenizers.tok4096(), TestTokenizers.llama3());
    }

    @Test
    void randomUnicodeRoundTrips() {
        Random r = new Random(SEED);
        for (int i = 0; i < 400; i++) {
            String text = RandomText.unicode(r, r.nextInt(120));
            for (Tokenizer tok : tokenizers) {
                assertEquals(text, tok.decode(tok.encode(text)), () -> "seed " + SEED + ", " + tok + ", '" + VocabTestVectors.show(text) + "'");
                assertEquals(text, tok.decode(tok.encodeWithBos(text, false)), () -> "with BOS, seed " + SEED + ", " + tok);
            }
        }
    }

    @Test
    void realTextRoundTrips() throws IOException {
        for (String text : ReferenceMergeTest.samples(150, 2000, SEED)) {
            for (Tokenizer tok : tokenizers) {
                assertEquals(text, tok.decode(tok.encode(text)), () -> "seed " + SEED + ", " + tok + ", '" + VocabTestVectors.show(text) + "'");
            }
        }
    }

    /** Long runs of one character class: one huge regex word or merge run; no deep recursion, no quadratic blow-up. */
    @Test
    void longRunsEncodeAndRoundTrip() {
        for (String unit : new String[] {" ", "a", "7", "!", "\n", " \n", "\uD83D\uDE00", "ab ", "\t \r\n"}) {
            String text = unit.repeat(50_000 / unit.length());
            for (Tokenizer tok : tokenizers) {
                assertEquals(text, tok.decode(tok.encode(text)), () -> tok + ", run of '" + VocabTestVectors.show(unit) + "'");
            }
        }
    }

    @Test
    void specialTokenTextIsPlainUnlessParsed() {
        for (Tokenizer tok : tokenizers) {
            String bosText = tok.tokenText(tok.bos());
            String text = "a" + bosText + "b";
            int[] plain = tok.encode(text, false);
            assertFalse(contains(plain, tok.bos()), () -> tok + ": " + bosText + " must not become BOS without parseSpecial");
            assertEquals(text, tok.decode(plain));
            assertTrue(contains(tok.encode(text, true), tok.bos()), () -> tok + ": " + bosText + " must become BOS with parseSpecial");
            assertEquals(tok.bos(), tok.specialToken(bosText).getAsInt());
        }
    }

    @Test
    void streamingDecoderEqualsWholeDecode() {
        Random r = new Random(SEED + 1);
        for (int i = 0; i < 200; i++) {
            String text = RandomText.unicode(r, 1 + r.nextInt(60));
            for (Tokenizer tok : tokenizers) {
                int[] ids = tok.encodeWithBos(text, false);
                TokenStreamDecoder d = tok.decoder();
                StringBuilder streamed = new StringBuilder();
                for (int id : ids) {
                    String part = d.accept(id);
                    assertFalse(part.contains("\uFFFD"), () -> tok + ": a streamed piece split a character, seed " + (SEED + 1));
                    streamed.append(part);
                }
                assertEquals("", d.flush());
                assertEquals(text, streamed.toString(), () -> tok + ", seed " + (SEED + 1) + ", '" + VocabTestVectors.show(text) + "'");
            }
        }
    }

    @Test
    void streamingHoldsBackAnUnfinishedCharacter() {
        SentencePieceTokenizer tok = (SentencePieceTokenizer) tokenizers.get(0);
        TokenStreamDecoder d = tok.decoder();
        // "é" = C3 A9 as byte tokens (id 3 + byte); the lone lead byte is held, then both print together.
        assertEquals("", d.accept(3 + 0xC3));
        assertEquals("é", d.accept(3 + 0xA9));
        assertEquals("", d.accept(3 + 0xE2));
        assertEquals("\uFFFD", d.flush(), "an unfinished character at the end shows as U+FFFD");
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) return true;
        }
        return false;
    }
}
