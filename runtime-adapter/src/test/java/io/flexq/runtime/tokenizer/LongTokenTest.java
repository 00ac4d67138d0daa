package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 1: building a SentencePiece tokenizer must cost time linear in the vocabulary's bytes.
 * A 2.2 MB GGUF with one 1,000,000-character entry, or a tokenizer.bin of 60 pieces of 64 KB, used to hang
 * for minutes (every split of every piece built a substring). Pieces longer than
 * {@link Vocabulary#MAX_TOKEN_BYTES} are refused with a message; pieces up to it load in well under a second.
 */
class LongTokenTest {

    /** Generous for 2 shared cores: the linear build takes milliseconds, the quadratic one took minutes. */
    private static final Duration BOUND = Duration.ofSeconds(10);

    private static Metadata llamaVocab(List<String> tokens) {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = -i;
        md.put("tokenizer.ggml.scores", scores);
        return new Metadata("hostile.gguf", md);
    }

    private static List<String> baseVocab() {
        List<String> t = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (char c = 'a'; c <= 'z'; c++) t.add(String.valueOf(c));
        t.add("\u2581");
        return t;
    }

    @Test
    void millionCharacterGgufTokenIsRefusedQuicklyNamingTheCap() {
        List<String> tokens = baseVocab();
        tokens.add("a".repeat(1_000_000));
        var e = assertTimeoutPreemptively(BOUND,
                () -> assertThrows(ModelFormatException.class, () -> Tokenizers.fromMetadata(llamaVocab(tokens))));
        assertTrue(e.getMessage().contains("hostile.gguf"), e.getMessage());
        assertTrue(e.getMessage().contains("token " + (tokens.size() - 1)), e.getMessage());
        assertTrue(e.getMessage().contains(String.valueOf(Vocabulary.MAX_TOKEN_BYTES)), e.getMessage());
    }

    /** 60 pieces at the cap, each a run of one letter whose every prefix is also a piece: worst case for splits. */
    @Test
    void sixtyPiecesAtTheCapLoadInLinearTime() {
        List<String> tokens = baseVocab();
        int len = Vocabulary.MAX_TOKEN_BYTES;
        for (int i = 0; i < 60; i++) {
            char c = (char) ('a' + i % 26);
            tokens.add(String.valueOf(c).repeat(len - i));
        }
        Tokenizer tok = assertTimeoutPreemptively(BOUND, () -> Tokenizers.fromMetadata(llamaVocab(tokens)));
        assertEquals(tokens.size(), tok.vocabularySize());
    }

    @Test
    void llama2cFileOfSixtyLongPiecesLoadsInLinearTime() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int len = 64 * 1024;
        out.writeBytes(le(len));
        List<String> pieces = new ArrayList<>(List.of("<unk>", "\n<s>\n", "\n</s>\n"));
        for (char c = 'a'; c <= 'z'; c++) pieces.add(String.valueOf(c));
        for (int i = 0; i < 60; i++) pieces.add("ab".repeat(len / 2 - i));
        for (int i = 0; i < pieces.size(); i++) {
            byte[] b = pieces.get(i).getBytes(StandardCharsets.UTF_8);
            out.writeBytes(le(Float.floatToIntBits(-i)));
            out.writeBytes(le(b.length));
            out.writeBytes(b);
        }
        byte[] file = out.toByteArray();
        assertTrue(file.length > 3_900_000, "the finding's 3.9 MB file");
        SentencePieceTokenizer tok = assertTimeoutPreemptively(BOUND, () -> Llama2cTokenizerFile.parse(file, "tok-hostile.bin"));
        assertEquals(pieces.size(), tok.vocabularySize());
    }

    /**
     * The linear build must find the same merges as before: in a vocabulary where every run of 'a' up to 9 is a
     * piece and longer runs score higher, "aaaaaaaaa" is one token; a run of 20 splits greedily (independent
     * reference: the best-first rule, worked by hand: 9 + 9 merge first, leftmost first, then the last 2).
     */
    @Test
    void longPiecesStillMergeAsTheRuleSays() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>", "\u2581"));
        for (int n = 1; n <= 9; n++) tokens.add("a".repeat(n));
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = i; // longer run = later id = higher score
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.add_space_prefix", false);
        Tokenizer tok = Tokenizers.fromMetadata(new Metadata("runs.gguf", md));
        int nine = tokens.indexOf("a".repeat(9));
        int two = tokens.indexOf("aa");
        assertArrayEquals(new int[] {nine}, tok.encode("a".repeat(9), false));
        assertArrayEquals(new int[] {nine, nine, two}, tok.encode("a".repeat(20), false));
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
