package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken tokenizer files give a ModelFormatException that names the file and what is wrong. */
class BadTokenizerFileTest {

    @TempDir
    Path dir;

    private byte[] tok512() throws IOException {
        return Files.readAllBytes(TestTokenizers.repoFile("models/tok512.bin"));
    }

    private void assertRefused(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromLlama2c(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void truncatedLlama2cTokenizerNamesOffsetAndToken() throws IOException {
        byte[] good = tok512();
        // Cut inside the text of a token, and inside a score/length header.
        assertRefused(write("cut-text.bin", Arrays.copyOf(good, good.length - 2)), "truncated", "token 511");
        assertRefused(write("cut-header.bin", Arrays.copyOf(good, 4 + 8 + 5 + 3)), "truncated", "token 1");
        assertRefused(write("empty.bin", new byte[0]), "too short");
        assertRefused(write("header-only.bin", Arrays.copyOf(good, 4)), "no tokens");
    }

    @Test
    void negativeOrOversizedLengthIsRefused() throws IOException {
        byte[] bad = tok512();
        // token 0 "<unk>": header (4) + score (4), then its int32 length at offset 8
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -5);
        assertRefused(write("negative.bin", bad), "token 0", "length -5");
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
        assertRefused(write("huge.bin", bad), "token 0", "length " + Integer.MAX_VALUE);
    }

    @Test
    void implausibleHeaderAndBadUtf8AreRefused() throws IOException {
        byte[] bad = tok512();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(0, -1);
        assertRefused(write("header.bin", bad), "max_token_length");
        bad = tok512();
        bad[12] = (byte) 0xFF; // first byte of "<unk>"
        assertRefused(write("utf8.bin", bad), "token 0", "UTF-8");
        Path missing = dir.resolve("missing.bin");
        assertRefused(missing, "cannot read");
    }

    @Test
    void badTokenizerJsonIsRefused() throws IOException {
        String good = """
                {"model": {"type": "BPE", "vocab": %s, "merges": ["a b"]},
                 "added_tokens": [{"id": 256, "content": "<s>", "special": true}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}}
                """;
        StringBuilder vocab = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(ByteLevel.charOf(b));
            vocab.append('"').append(c.equals("\"") ? "\\\"" : c.equals("\\") ? "\\\\" : c).append("\": ").append(b).append(", ");
        }
        String withAb = vocab + "\"ab\": 257}";
        Path ok = dir.resolve("ok.json");
        Files.writeString(ok, good.formatted(withAb));
        ByteLevelBpeTokenizer tok = (ByteLevelBpeTokenizer) Tokenizers.fromTokenizerJson(ok);
        assertTrue(tok.encode("ab").length == 1 && tok.encode("ab")[0] == 257, "the hand-made file works");

        Path noMerged = dir.resolve("no-merged.json");
        Files.writeString(noMerged, good.formatted(vocab.substring(0, vocab.length() - 2) + "}"));
        assertJsonRefused(noMerged, "merge 0", "'ab'");

        Path truncated = dir.resolve("truncated.json");
        Files.writeString(truncated, good.formatted(withAb).substring(0, 200));
        assertJsonRefused(truncated, "at character");

        Path otherSplit = dir.resolve("split.json");
        Files.writeString(otherSplit, good.formatted(withAb).replace("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}",
                "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, \"behavior\": \"Isolated\", \"invert\": false}"));
        assertJsonRefused(otherSplit, "split pattern", "not one of the supported");

        Path unigram = dir.resolve("unigram.json");
        Files.writeString(unigram, good.formatted(withAb).replace("\"BPE\"", "\"Unigram\""));
        assertJsonRefused(unigram, "model.type");

        Path missingByte = dir.resolve("missing-byte.json");
        Files.writeString(missingByte, good.formatted(withAb).replace("\"!\": 33, ", ""));
        assertJsonRefused(missingByte, "0x21");
    }

    /**
     * Found by the Jazzer run (issue 11): one id edited to 3,333,432 in a 7.8 KB tokenizer.json made the reader
     * allocate and scan millions of empty slots (0.2 s alone, 6 s in the run); ids up to 16,777,215 were accepted,
     * so a few KB could cost seconds. Ids must mostly be used: a vocabulary whose ids leave more unused slots than
     * it has tokens (plus 1024) is refused.
     */
    @Test
    void idsFarBeyondTheNumberOfTokensAreRefused() throws IOException {
        StringBuilder vocab = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(ByteLevel.charOf(b));
            vocab.append('"').append(c.equals("\"") ? "\\\"" : c.equals("\\") ? "\\\\" : c).append("\": ").append(b).append(", ");
        }
        String json = """
                {"model": {"type": "BPE", "vocab": %s, "merges": ["a b"]},
                 "added_tokens": [{"id": 256, "content": "<s>", "special": true}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}}
                """;
        Path near = dir.resolve("near.json");
        Files.writeString(near, json.formatted(vocab + "\"ab\": 1200}"));
        assertTrue(Tokenizers.fromTokenizerJson(near).encode("ab").length == 1, "a gap of about 1,000 ids is accepted");
        Path sparse = dir.resolve("sparse.json");
        Files.writeString(sparse, json.formatted(vocab + "\"ab\": 16777215}"));
        assertJsonRefused(sparse, "16777215", "258 tokens");
    }

    private void assertJsonRefused(Path file, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void tokenizerOfAnotherModelIsRefusedNamingBothFiles() {
        Path tokPath = TestTokenizers.repoFile("models/tok512.bin");
        Tokenizer tok = Tokenizers.fromLlama2c(tokPath);
        Tokenizers.checkMatches(tok, 512, Path.of("stories260K.bin"), tokPath);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Tokenizers.checkMatches(tok, 4096, Path.of("flexq-ref-27M-f16.gguf"), tokPath));
        assertTrue(e.getMessage().contains("flexq-ref-27M-f16.gguf") && e.getMessage().contains(tokPath.toString())
                && e.getMessage().contains("512") && e.getMessage().contains("4096"), e.getMessage());
    }

    @Test
    void idsOutsideTheVocabularyAreRefused() {
        Tokenizer tok = Tokenizers.fromLlama2c(TestTokenizers.repoFile("models/tok512.bin"));
        var e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {1, 512}));
        assertTrue(e.getMessage().contains("512") && e.getMessage().contains("tok512.bin"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.tokenText(-1));
    }

    /**
     * Found by the reader fuzz (issue 11): a truncated tokenizer.bin without byte pieces or an unknown token cannot
     * encode a character it lacks. That is the file's fault, so it is a ModelFormatException naming the file, not an
     * IllegalArgumentException the CLI reports as an internal error.
     */
    @Test
    void aVocabularyThatCannotEncodeTheInputIsABadFile() {
        java.util.Map<String, Object> md = new java.util.HashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", new String[] {"<s>", "</s>", "a", "b"});
        md.put("tokenizer.ggml.token_type", new int[] {3, 3, 1, 1});
        md.put("tokenizer.ggml.unknown_token_id", -1L);
        Tokenizer tok = Tokenizers.fromMetadata(new io.flexq.runtime.model.Metadata("nobytes.gguf", md));
        var e = assertThrows(ModelFormatException.class, () -> tok.encode("abé", false));
        assertTrue(e.getMessage().contains("nobytes.gguf") && e.getMessage().contains("cannot be encoded"), e.getMessage());
    }
}
