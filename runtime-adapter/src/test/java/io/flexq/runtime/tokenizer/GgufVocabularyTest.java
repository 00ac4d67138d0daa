package io.flexq.runtime.tokenizer;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tokenizers built from GGUF metadata written by llama.cpp, checked against llama.cpp's own ids. */
class GgufVocabularyTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16));

    static Metadata metadata(String shared) {
        try (GgufFile f = GgufFile.open(SharedData.require(shared), TYPES)) {
            return f.metadata();
        }
    }

    @Test
    void everyLlamaCppTestStringEncodesToItsIdsWithTheLlama2Vocabulary() {
        Tokenizer tok = Tokenizers.fromMetadata(metadata("data/tokenizer-tests/ggml-vocab-llama-spm.gguf"));
        assertInstanceOf(SentencePieceTokenizer.class, tok);
        assertEquals(32000, tok.vocabularySize());
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
        assertEquals(0, failures, failures + " of " + v.inputs().size() + " strings differ:" + report);
    }

    /** llama.cpp's converter turned tok512.bin into the GGUF's tokenizer.ggml.*: reading either must give the same vocabulary. */
    @Test
    void tok512AndItsGgufConversionAreTheSameVocabulary() {
        SentencePieceTokenizer fromBin = TestTokenizers.tok512();
        assertSameVocabulary(fromBin, Tokenizers.fromMetadata(metadata("models/stories260K-f32.gguf")));
        assertSameVocabulary(TestTokenizers.tok4096(), Tokenizers.fromMetadata(metadata("models/flexq-ref-27M-f16.gguf")));
    }

    private static void assertSameVocabulary(SentencePieceTokenizer bin, Tokenizer gguf) {
        SentencePieceTokenizer g = assertInstanceOf(SentencePieceTokenizer.class, gguf);
        assertEquals(bin.vocabularySize(), g.vocabularySize());
        assertEquals(bin.bos(), g.bos());
        assertEquals(bin.eos(), g.eos());
        assertEquals(bin.unk(), g.unk());
        for (int id = 0; id < bin.vocabularySize(); id++) {
            assertEquals(g.tokenText(id), bin.tokenText(id), "text of " + id);
            assertEquals(g.tokenType(id), bin.tokenType(id), "type of " + id);
            assertEquals(g.score(id), bin.score(id), "score of " + id);
        }
        String text = "Once upon a time, in a small village by the sea, there lived 3 cats.\n\"Hi!\" said Tom. 東京";
        assertArrayEquals(bin.encodeWithBos(text, false), g.encodeWithBos(text, false));
    }

    @Test
    void byteLevelVocabularyFromGgufKeysEqualsTheTokenizerJson() {
        // A "gpt2" GGUF vocabulary as llama.cpp's converter writes it, built from the same tokenizer.json.
        ByteLevelBpeTokenizer json = TestTokenizers.llama3();
        int n = json.vocabularySize();
        String[] tokens = new String[n];
        int[] types = new int[n];
        for (int id = 0; id < n; id++) {
            tokens[id] = json.tokenText(id);
            types[id] = json.tokenType(id).value();
        }
        Map<String, Object> kv = new HashMap<>();
        kv.put("tokenizer.ggml.model", "gpt2");
        kv.put("tokenizer.ggml.pre", "llama-bpe");
        kv.put("tokenizer.ggml.tokens", tokens);
        kv.put("tokenizer.ggml.token_type", types);
        kv.put("tokenizer.ggml.merges", TestTokenizers.llama3Merges().toArray(String[]::new));
        kv.put("tokenizer.ggml.bos_token_id", 128000L);
        kv.put("tokenizer.ggml.eos_token_id", 128009L);
        Tokenizer gguf = Tokenizers.fromMetadata(new Metadata("synthetic-llama3.gguf", kv));
        assertEquals(128009, gguf.eos());
        assertTrue(gguf.addBos());
        VocabTestVectors v = VocabTestVectors.load("ggml-vocab-llama-bpe.gguf");
        for (int i = 0; i < v.inputs().size(); i++) {
            assertArrayEquals(v.expected().get(i), gguf.encode(v.inputs().get(i)), "#" + i);
        }

        kv.put("tokenizer.ggml.pre", "qwen2");
        var e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromMetadata(new Metadata("synthetic-llama3.gguf", kv)));
        assertTrue(e.getMessage().contains("synthetic-llama3.gguf") && e.getMessage().contains("qwen2"), e.getMessage());
        kv.put("tokenizer.ggml.model", "t5");
        e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromMetadata(new Metadata("synthetic-llama3.gguf", kv)));
        assertTrue(e.getMessage().contains("'t5'"), e.getMessage());
    }
}
