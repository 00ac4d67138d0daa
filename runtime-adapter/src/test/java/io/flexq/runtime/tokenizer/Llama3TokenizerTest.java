package io.flexq.runtime.tokenizer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Llama 3 byte-level BPE from tokenizer.json, checked against llama.cpp's ids for the same vocabulary. */
class Llama3TokenizerTest {

    static ByteLevelBpeTokenizer tok;

    @BeforeAll
    static void load() {
        tok = TestTokenizers.llama3();
    }

    @Test
    void everyLlamaCppTestStringEncodesToItsIds() {
        VocabTestVectors v = VocabTestVectors.load("ggml-vocab-llama-bpe.gguf");
        int failures = 0;
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < v.inputs().size(); i++) {
            int[] got = tok.encode(v.inputs().get(i));
            if (!Arrays.equals(v.expected().get(i), got)) {
                failures++;
                report.append("\n#").append(i).append(" '").append(VocabTestVectors.show(v.inputs().get(i)))
                        .append("'\n  want ").append(Arrays.toString(v.expected().get(i)))
                        .append("\n  got  ").append(Arrays.toString(got));
            }
        }
        assertEquals(0, failures, failures + " of " + v.inputs().size() + " strings differ:" + report);
    }

    @Test
    void specialTokensAndSizes() {
        assertEquals(128256, tok.vocabularySize());
        assertEquals(128000, tok.bos());
        assertEquals(128001, tok.eos());
        assertEquals(128009, tok.specialToken("<|eot_id|>").getAsInt());
        int[] ids = tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true);
        // the file's ids for these texts: 882 "user", 271 "ĊĊ" (also in the llama.cpp vectors), 13347 "Hi"
        assertArrayEquals(new int[] {128006, 882, 128007, 271, 13347, 128009}, ids);
        Map<?, ?> vocab = (Map<?, ?>) TestTokenizers.llama3JsonModel().get("vocab");
        assertEquals(List.of(882L, 271L, 13347L), List.of(vocab.get("user"), vocab.get("ĊĊ"), vocab.get("Hi")));
        int[] plain = tok.encode("<|eot_id|>", false);
        assertTrue(plain.length > 1, "without parseSpecial the control text is ordinary characters");
        assertEquals("<|eot_id|>", tok.decode(plain));
    }
}
