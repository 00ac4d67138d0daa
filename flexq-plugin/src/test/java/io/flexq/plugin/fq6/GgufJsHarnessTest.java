package io.flexq.plugin.fq6;

import io.flexq.runtime.model.SharedData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The external reader reads a file llama.cpp wrote as the shared README describes it, so when it later
 * reads our FQ6 files we know it is a working GGUF parser and not a harness that accepts anything.
 */
class GgufJsHarnessTest {

    @Test
    void externalReaderSeesLlamaCppFileAsDocumented() throws Exception {
        Map<String, Object> g = GgufJs.read(SharedData.require("models/stories260K-q8_0.gguf"));
        @SuppressWarnings("unchecked") Map<String, Object> md = (Map<String, Object>) g.get("metadata");
        assertEquals("llama", md.get("general.architecture"));
        assertEquals(64L, md.get("llama.embedding_length"));
        assertEquals(172L, md.get("llama.feed_forward_length"));
        assertEquals(512, ((List<?>) md.get("tokenizer.ggml.tokens")).size());
        @SuppressWarnings("unchecked") List<Map<String, Object>> tensors = (List<Map<String, Object>>) g.get("tensorInfos");
        assertEquals(3 + 9 * 5, tensors.size());
        Map<String, Object> down = tensors.stream().filter(t -> t.get("name").equals("blk.0.ffn_down.weight")).findFirst().orElseThrow();
        assertEquals(1L, down.get("dtype")); // F16: 172 columns do not fit Q8_0 blocks
        assertEquals(List.of("172", "64"), down.get("shape"));
        Map<String, Object> q = tensors.stream().filter(t -> t.get("name").equals("blk.0.attn_q.weight")).findFirst().orElseThrow();
        assertEquals(8L, q.get("dtype")); // Q8_0
    }
}
