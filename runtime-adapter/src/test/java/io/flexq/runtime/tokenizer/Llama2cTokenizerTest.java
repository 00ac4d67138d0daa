package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SentencePiece from llama2.c tokenizer.bin files, against ids published with the models
 * (shared/models/README.md, stories260K-greedy.txt), which came from llama.cpp and SentencePiece.
 */
class Llama2cTokenizerTest {

    @Test
    void tok512ReadsAsTheVocabularyLlamaCppConverted() {
        SentencePieceTokenizer tok = Tokenizers.fromLlama2c(TestTokenizers.repoFile("models/tok512.bin"));
        assertEquals(512, tok.vocabularySize());
        assertEquals(1, tok.bos());
        assertEquals(2, tok.eos());
        assertEquals(0, tok.unk());
        // README: 0 <unk> UNKNOWN, 1 <s> and 2 </s> CONTROL, 3..258 <0x00>..<0xFF> BYTE, 259..511 NORMAL, scores -252..0
        assertEquals(TokenType.UNKNOWN, tok.tokenType(0));
        assertEquals("<s>", tok.tokenText(1));
        assertEquals(TokenType.CONTROL, tok.tokenType(2));
        assertEquals("<0x0A>", tok.tokenText(13));
        assertEquals(TokenType.BYTE, tok.tokenType(258));
        assertEquals("▁t", tok.tokenText(259));
        assertEquals(TokenType.NORMAL, tok.tokenType(511));
        assertEquals(-252f, tok.score(511));
    }

    @Test
    void onceUponATimeIsTheStartOfTheGreedyReference() throws IOException {
        SentencePieceTokenizer tok = Tokenizers.fromLlama2c(TestTokenizers.repoFile("models/tok512.bin"));
        List<String> lines = Files.readAllLines(SharedData.require("models/stories260K-greedy.txt"), StandardCharsets.UTF_8)
                .stream().filter(l -> !l.startsWith("#")).toList();
        int[] greedy = Arrays.stream(lines.get(0).split(",")).mapToInt(Integer::parseInt).toArray();
        String text = String.join("\n", lines.subList(1, lines.size()));

        assertArrayEquals(Arrays.copyOf(greedy, 4), tok.encode("Once upon a time"));
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, tok.encodeWithBos("Once upon a time", false));

        // The file's text joins the raw pieces (" Once ..."); decoding after BOS drops the dummy-prefix space.
        int[] withBos = new int[greedy.length + 1];
        withBos[0] = 1;
        System.arraycopy(greedy, 0, withBos, 1, greedy.length);
        assertEquals(text.substring(1), tok.decode(withBos));
        assertEquals(text.substring(1), tok.decode(greedy));
        assertEquals("Once", tok.decodePiece(1, 403));
        assertEquals(" upon", tok.decodePiece(403, 407));
    }

    @Test
    void ref27MPromptsEncodeToThePublishedIds() {
        SentencePieceTokenizer tok = Tokenizers.fromLlama2c(SharedData.require("models/flexq-ref-27M-tok4096.bin"));
        assertEquals(4096, tok.vocabularySize());
        assertArrayEquals(new int[] {1, 358}, tok.encodeWithBos("The", false));
        assertArrayEquals(new int[] {1, 1157, 326, 628, 261, 591, 4021, 290, 261, 1193, 2584, 388, 263, 1568, 4021, 484, 2180},
                tok.encodeWithBos("Once upon a time, in a small village by the sea, there lived", false));
    }

    /** llama.cpp's count for llama-perplexity on WikiText-2 test: the BOM as bytes, "<unk>" as text. */
    @Test
    void wikiText2TestIs452584TokensWithBos() throws IOException {
        SentencePieceTokenizer tok = TestTokenizers.tok4096();
        String text = TestTokenizers.wikiText();
        int[] ids = tok.encodeWithBos(text, false);
        assertEquals(452_584, ids.length);
        // BOS, the dummy-prefix "▁" alone, then the BOM EF BB BF as byte tokens (id = 3 + byte).
        assertEquals("▁", tok.tokenText(ids[1]));
        assertArrayEquals(new int[] {1, ids[1], 3 + 0xEF, 3 + 0xBB, 3 + 0xBF}, Arrays.copyOf(ids, 5));
        assertEquals(text, tok.decode(ids));
    }

    /** The published count for the in-domain held-out books (same tokenizer, BOS counted). */
    @Test
    void heldOutBooksAre1041464TokensWithBos() throws IOException {
        SentencePieceTokenizer tok = TestTokenizers.tok4096();
        String text = TestTokenizers.heldOutBooks();
        assertEquals(1_041_464, tok.encodeWithBos(text, false).length);
    }
}
