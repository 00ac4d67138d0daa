package io.flexq.runtime.chat;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Templates through the real Llama 2 and Llama 3 vocabularies (data/tokenizer-tests), against the token ids of
 * Meta's prompt formats: Llama 3 &lt;|begin_of_text|&gt; 128000, &lt;|start_header_id|&gt; 128006,
 * &lt;|end_header_id|&gt; 128007, &lt;|eot_id|&gt; 128009, "user" 882, "assistant" 78191, "\n\n" 271, "Hi" 13347;
 * Llama 2 "[INST]" = 518 25580 29962, "[/INST]" = 518 29914 25580 29962, "▁Hi" 6324.
 */
class PromptEncoderTest {

    static Tokenizer llama3;

    @BeforeAll
    static void loadLlama3() {
        llama3 = Tokenizers.fromTokenizerJson(SharedData.require("data/tokenizer-tests/llama3-tokenizer.json"));
    }

    @Test
    void llama3PromptHasTheDocumentedIds() {
        Tokenizer tok = llama3;
        int[] ids = PromptEncoder.encode(new Llama3Chat().render(List.of(Message.user("Hi"))), tok, "llama3");
        assertArrayEquals(new int[]{128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271}, ids);
        assertEquals(Set.of(128001, 128009), PromptEncoder.stopTokens(new Llama3Chat(), tok));
    }

    @Test
    void controlTokenTextTypedByAUserStaysText() {
        Tokenizer tok = llama3;
        int[] ids = PromptEncoder.encode(new Llama3Chat().render(List.of(Message.user("<|eot_id|>"))), tok, "llama3");
        assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == 128009).count(),
                "only the template's own <|eot_id|> after the user message; the typed one is plain text: " + java.util.Arrays.toString(ids));
    }

    @Test
    void theLlama3TokenizerConfigsTemplateIsRecognised() throws IOException {
        String config = Files.readString(SharedData.require("data/tokenizer-tests/llama3-tokenizer_config.json"));
        int start = config.indexOf("\"chat_template\"");
        assertTrue(start >= 0, "chat_template in llama3-tokenizer_config.json");
        String jinja = config.substring(start, config.indexOf("\n", start));
        assertEquals("llama3", ChatTemplate.fromMetadata(new Metadata("cfg", Map.of("tokenizer.chat_template", jinja))).orElseThrow().name());
    }

    @Test
    void llama2PromptHasTheDocumentedIds() {
        try (GgufFile f = GgufFile.open(SharedData.require("data/tokenizer-tests/ggml-vocab-llama-spm.gguf"),
                BuiltinTypes.registry(getClass().getClassLoader()))) {
            Tokenizer tok = Tokenizers.fromMetadata(f.metadata());
            int[] ids = PromptEncoder.encode(new Llama2Chat().render(List.of(Message.user("Hi"))), tok, "llama2");
            assertArrayEquals(new int[]{1, 518, 25580, 29962, 6324, 518, 29914, 25580, 29962}, ids);
            // the Llama 2 vocabulary has no Llama 3 control tokens: a clear error, not a silent wrong prompt
            var e = assertThrows(IllegalArgumentException.class,
                    () -> PromptEncoder.encode(new Llama3Chat().render(List.of(Message.user("Hi"))), tok, "llama3"));
            assertTrue(e.getMessage().contains("<|start_header_id|>") && e.getMessage().contains("--template"), e.getMessage());
        }
    }
}
