package io.flexq.runtime.safetensors;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.HfLlamaTokenizerJson;
import io.flexq.runtime.tokenizer.SentencePieceTokenizer;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Hugging Face folder of a Llama-2-style model as users download it: config.json, model.safetensors,
 * tokenizer.json (SentencePiece BPE with byte fallback, written as transformers writes it) and tokenizer_config.json.
 * The vocabulary is stories260K's tok512, so the ids can be checked against llama2.c's tokenizer.bin.
 */
class HfLlama2FolderTest {

    @TempDir
    Path dir;

    @Test
    void aLlama2StyleFolderLoadsWithItsTokenizerJsonAndRuns() throws Exception {
        SentencePieceTokenizer tok512 = Tokenizers.fromLlama2c(Path.of(System.getProperty("flexq.root", "..")).resolve("models/tok512.bin"));
        HfModelWriter.Dims dims = new HfModelWriter.Dims(32, 48, 1, 4, 2, 512);
        HfModelWriter.writeModel(dir, dims, HfModelWriter.randomModel(dims, false, "F32", 2718L), true, "");
        Files.writeString(dir.resolve("tokenizer.json"), HfLlamaTokenizerJson.write(tok512, HfLlamaTokenizerJson.Form.LEGACY));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                 "legacy": true, "tokenizer_class": "LlamaTokenizer"}
                """);

        Tokenizer tok = Tokenizers.fromTokenizerJson(dir.resolve("tokenizer.json"));
        assertInstanceOf(SentencePieceTokenizer.class, tok);
        String prompt = "Once upon a time, there was a dog.";
        int[] ids = tok.encodeWithBos(prompt, false);
        assertArrayEquals(tok512.encodeWithBos(prompt, false), ids, "ids of the tokenizer.json = ids of tok512.bin");

        ClassLoader loader = getClass().getClassLoader();
        List<String> log = new ArrayList<>();
        try (ModelFile f = ModelFiles.open(dir, BuiltinTypes.registry(loader));
             Llama llama = Llama.load(f, Backends.discover(loader, log::add), List.of(), log::add)) {
            Tokenizers.checkMatches(tok, llama.config().vocabSize(), dir, dir.resolve("tokenizer.json"));
            try (LlamaSession s = llama.newSession(ids.length + 4)) {
                float[][] rows = s.forwardAll(ids, 0, ids.length);
                float[] last = rows[rows.length - 1];
                assertEquals(512, last.length);
                for (float x : last) {
                    assertTrue(Float.isFinite(x), "finite logits");
                }
                int next = 0;
                for (int i = 1; i < last.length; i++) {
                    next = last[i] > last[next] ? i : next;
                }
                tok.decode(new int[] {next}); // any id the model can pick decodes
            }
        }
    }
}
