package io.flexq.runtime.tokenizer;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The test vocabularies, each read once per test JVM (the Llama 3 file is 9 MB of JSON). */
final class TestTokenizers {

    private TestTokenizers() {
    }

    static Path repoFile(String relative) {
        return Path.of(System.getProperty("flexq.root", ".")).resolve(relative);
    }

    private static final class Llama3 {
        static final Path PATH = SharedData.require("data/tokenizer-tests/llama3-tokenizer.json");
        static final ByteLevelBpeTokenizer TOKENIZER = (ByteLevelBpeTokenizer) Tokenizers.fromTokenizerJson(PATH);
        /** model section of the file, parsed here directly (not through TokenizerJsonFile). */
        static final Map<?, ?> MODEL;

        static {
            try {
                MODEL = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(PATH))).get("model");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final class Spm {
        static final SentencePieceTokenizer TOK512 = Tokenizers.fromLlama2c(repoFile("models/tok512.bin"));
        static final SentencePieceTokenizer TOK4096 = Tokenizers.fromLlama2c(SharedData.require("models/flexq-ref-27M-tok4096.bin"));
    }

    private static final class Texts {
        static final String WIKI = read("data/wikitext2-test.txt");
        static final String BOOKS = read("data/refmodel-heldout.txt");

        private static String read(String shared) {
            try {
                return Files.readString(SharedData.require(shared));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** WikiText-2 test, whole (BOM included). */
    static String wikiText() {
        return Texts.WIKI;
    }

    /** shared/data/refmodel-heldout.txt, whole. */
    static String heldOutBooks() {
        return Texts.BOOKS;
    }

    static ByteLevelBpeTokenizer llama3() {
        return Llama3.TOKENIZER;
    }

    static Map<?, ?> llama3JsonModel() {
        return Llama3.MODEL;
    }

    /** model.merges in rank order, as "a b" strings. */
    static List<String> llama3Merges() {
        return ((List<?>) Llama3.MODEL.get("merges")).stream().map(m -> (String) m).toList();
    }

    static SentencePieceTokenizer tok512() {
        return Spm.TOK512;
    }

    static SentencePieceTokenizer tok4096() {
        return Spm.TOK4096;
    }
}
