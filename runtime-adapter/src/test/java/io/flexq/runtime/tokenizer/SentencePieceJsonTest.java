package io.flexq.runtime.tokenizer;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hugging Face tokenizer.json files of Llama-2-style (SentencePiece BPE with byte fallback) vocabularies, written here
 * as transformers writes them ({@link HfLlamaTokenizerJson}) from the Llama 2 vocabulary GGUF and from tok512, and
 * checked against llama.cpp's token ids for its test strings and against the same vocabulary read from GGUF / llama2.c.
 */
class SentencePieceJsonTest {

    @TempDir
    static Path dir;

    static SentencePieceTokenizer llama2Gguf;
    static Path legacy;
    static Path metaspace;

    @BeforeAll
    static void writeLlama2Files() throws IOException {
        llama2Gguf = (SentencePieceTokenizer) Tokenizers.fromMetadata(GgufVocabularyTest.metadata("data/tokenizer-tests/ggml-vocab-llama-spm.gguf"));
        legacy = Files.createDirectories(dir.resolve("legacy")).resolve("tokenizer.json");
        Files.writeString(legacy, HfLlamaTokenizerJson.write(llama2Gguf, HfLlamaTokenizerJson.Form.LEGACY));
        metaspace = Files.createDirectories(dir.resolve("metaspace")).resolve("tokenizer.json");
        Files.writeString(metaspace, HfLlamaTokenizerJson.write(llama2Gguf, HfLlamaTokenizerJson.Form.METASPACE));
    }

    private static void assertLlamaCppIds(Tokenizer tok) {
        VocabTestVectors v = VocabTestVectors.load("ggml-vocab-llama-spm.gguf");
        StringBuilder report = new StringBuilder();
        int failures = 0;
        for (int i = 0; i < v.inputs().size(); i++) {
            String text = v.inputs().get(i);
            int[] got = tok.encode(text);
            if (!Arrays.equals(v.expected().get(i), got)) {
                failures++;
                report.append("\n#").append(i).append(" '").append(VocabTestVectors.show(text))
                        .append("'\n  want ").append(Arrays.toString(v.expected().get(i)))
                        .append("\n  got  ").append(Arrays.toString(got));
            }
            assertEquals(text, tok.decode(got), "round trip of #" + i);
        }
        assertEquals(0, failures, failures + " of " + v.inputs().size() + " strings differ from llama.cpp:" + report);
    }

    @Test
    void legacyLlama2TokenizerJsonEncodesLlamaCppTestStringsToTheirIds() {
        Tokenizer tok = Tokenizers.fromTokenizerJson(legacy);
        SentencePieceTokenizer sp = assertInstanceOf(SentencePieceTokenizer.class, tok);
        assertEquals(32000, sp.vocabularySize());
        assertEquals(1, sp.bos());
        assertEquals(2, sp.eos());
        assertEquals(0, sp.unk());
        assertTrue(sp.addBos(), "the post-processor puts <s> first");
        assertTrue(sp.addSpacePrefix(), "the Prepend normalizer");
        assertEquals(TokenType.BYTE, sp.tokenType(3 + 0x0A), "<0x0A>");
        assertEquals(TokenType.CONTROL, sp.tokenType(1));
        assertEquals(TokenType.UNKNOWN, sp.tokenType(0));
        assertLlamaCppIds(tok);
    }

    @Test
    void metaspaceFormWithPairMergesEncodesTheSame() {
        Tokenizer tok = Tokenizers.fromTokenizerJson(metaspace);
        assertTrue(assertInstanceOf(SentencePieceTokenizer.class, tok).addSpacePrefix(), "prepend_scheme first");
        assertLlamaCppIds(tok);
    }

    /** Merge ranks in place of scores must merge as the GGUF's scores do, on a long real text (WikiText-2, 200 kB). */
    @Test
    void tokenizerJsonAndGgufVocabularyAgreeOnWikiText() {
        Tokenizer json = Tokenizers.fromTokenizerJson(legacy);
        String text = TestTokenizers.wikiText().substring(0, 200_000);
        int[] want = llama2Gguf.encodeWithBos(text, false);
        int[] got = json.encodeWithBos(text, false);
        assertArrayEquals(want, got);
        assertEquals(text, json.decode(Arrays.copyOfRange(got, 1, got.length)));
    }

    /**
     * The reader turns merge ranks into SentencePiece scores; HF's own BPE merges by rank. A naive HF BPE
     * ({@link HfBpeReference}) over the same file's vocab and merges must give the same ids on real text. Lines are
     * encoded one by one by the reference: no Llama 2 piece holds a newline (it is the byte piece {@code <0x0A>}),
     * so no merge crosses one.
     */
    @Test
    void mergeRanksGiveWhatHfBpeGivesOnWikiText() throws IOException {
        Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(legacy))).get("model");
        Map<String, Integer> vocab = new HashMap<>();
        ((Map<?, ?>) model.get("vocab")).forEach((k, v) -> vocab.put((String) k, ((Long) v).intValue()));
        List<String[]> merges = new ArrayList<>();
        for (Object m : (List<?>) model.get("merges")) {
            String t = (String) m;
            merges.add(new String[] {t.substring(0, t.indexOf(' ')), t.substring(t.indexOf(' ') + 1)});
        }
        HfBpeReference hf = new HfBpeReference(vocab, merges);
        assertTrue(vocab.keySet().stream().noneMatch(p -> p.contains("\n")), "a piece holds a newline");

        String text = TestTokenizers.wikiText().substring(0, 25_000);
        String normalized = "\u2581" + text.replace(' ', '\u2581');
        List<Integer> want = new ArrayList<>();
        int start = 0;
        for (int nl; (nl = normalized.indexOf('\n', start)) >= 0; start = nl + 1) {
            want.addAll(hf.encodeNormalized(normalized.substring(start, nl)));
            want.add(vocab.get("<0x0A>"));
        }
        want.addAll(hf.encodeNormalized(normalized.substring(start)));
        int[] got = Tokenizers.fromTokenizerJson(legacy).encode(text);
        assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), got);
    }

    /** stories260K's vocabulary (tok512) as tokenizer.json: same ids as llama2.c's tokenizer.bin on a story with bytes outside it. */
    @Test
    void tok512AsTokenizerJsonMatchesTheLlama2cFile() throws IOException {
        SentencePieceTokenizer bin = TestTokenizers.tok512();
        Path file = Files.createDirectories(dir.resolve("tok512")).resolve("tokenizer.json");
        Files.writeString(file, HfLlamaTokenizerJson.write(bin, HfLlamaTokenizerJson.Form.LEGACY));
        Tokenizer json = Tokenizers.fromTokenizerJson(file);
        assertEquals(bin.vocabularySize(), json.vocabularySize());
        String text = "Once upon a time, Lily saw a big red ball. \"Hi!\" said Tom, 3 times.\n\tEnd: 東京 ☃ naïve";
        assertArrayEquals(bin.encodeWithBos(text, false), json.encodeWithBos(text, false));
        assertEquals(text, json.decode(json.encode(text)));
    }

    @Test
    void tokenizerConfigBesideTheFileDecidesBosAndAddBos() throws IOException {
        Path d = Files.createDirectories(dir.resolve("config"));
        Files.copy(legacy, d.resolve("tokenizer.json"));
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"</s>\", \"add_bos_token\": false}");
        Tokenizer tok = Tokenizers.fromTokenizerJson(d.resolve("tokenizer.json"));
        assertEquals(1, tok.bos());
        assertTrue(!tok.addBos());
    }

    private Path variant(String name, String from, String to) throws IOException {
        String json = Files.readString(legacy);
        assertTrue(json.contains(from), from);
        Path p = Files.createDirectories(dir.resolve(name)).resolve("tokenizer.json");
        Files.writeString(p, json.replace(from, to));
        return p;
    }

    private static void assertRefused(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void unsupportedSpaceHandlingAndBrokenMergesAreRefusedByName() throws IOException {
        assertRefused(variant("nfkc", "{\"type\":\"Prepend\",\"prepend\":\"\u2581\"}", "{\"type\":\"NFKC\"}"), "normalizer type 'NFKC'");
        assertRefused(variant("split", "\"pre_tokenizer\":null",
                "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\",\"split\":true}"),
                "both a normalizer and a pre_tokenizer");
        assertRefused(variant("nosplit", "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
                        + "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]},\"pre_tokenizer\":null",
                "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\",\"split\":true}"),
                "split = true");
        assertRefused(variant("merge", "\"merges\":[\"", "\"merges\":[\"nosuchpiece x\",\""), "model.merges[0]", "nosuchpiece");
        assertRefused(variant("unk", "\"unk_token\":\"<unk>\"", "\"unk_token\":\"<nope>\""), "unk_token '<nope>'");
    }
}
