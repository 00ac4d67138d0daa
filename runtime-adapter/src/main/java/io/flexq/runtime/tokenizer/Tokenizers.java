package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;

import java.nio.file.Path;

/** Builds tokenizers from the files that carry vocabularies, and checks one against a model. */
public final class Tokenizers {

    private Tokenizers() {
    }

    /** From GGUF {@code tokenizer.ggml.*} metadata (model "llama" or "gpt2"). */
    public static Tokenizer fromMetadata(Metadata metadata) {
        return GgufTokenizerMetadata.read(metadata);
    }

    /** From llama2.c's {@code tokenizer.bin} (e.g. tok512.bin): a SentencePiece-style vocabulary. */
    public static SentencePieceTokenizer fromLlama2c(Path tokenizerBin) {
        return Llama2cTokenizerFile.read(tokenizerBin);
    }

    /**
     * From a Hugging Face {@code tokenizer.json}: a byte-level BPE (Llama 3, GPT-2 family) gives a
     * {@link ByteLevelBpeTokenizer}; a SentencePiece-style BPE with byte fallback (Llama 1/2, Mistral) gives a
     * {@link SentencePieceTokenizer}.
     */
    public static Tokenizer fromTokenizerJson(Path tokenizerJson) {
        return TokenizerJsonFile.read(tokenizerJson);
    }

    /**
     * Refuses a tokenizer that does not belong to a model: its ids must index the model's token
     * embedding exactly, so the vocabulary size must equal the embedding's row count.
     *
     * @param vocabRows     rows of token_embd.weight (llama2.c: the header's vocab_size)
     * @param modelPath     the model file, for the message
     * @param tokenizerPath the tokenizer file (may be the model itself when the vocabulary is in its metadata)
     * @throws ModelFormatException naming both files and both sizes
     */
    public static void checkMatches(Tokenizer tokenizer, long vocabRows, Path modelPath, Path tokenizerPath) {
        if (tokenizer.vocabularySize() != vocabRows) {
            throw new ModelFormatException("tokenizer " + tokenizerPath + " has " + tokenizer.vocabularySize()
                    + " tokens but model " + modelPath + " has " + vocabRows + " token-embedding rows: they do not belong together"
                    + " (pass the tokenizer that was made for this model, e.g. --tokenizer)");
        }
    }
}
