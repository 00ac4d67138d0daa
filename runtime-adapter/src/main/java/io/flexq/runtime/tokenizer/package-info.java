/**
 * Tokenizers: text to token ids and back, for the vocabularies Llama-family models ship with.
 *
 * <ul>
 * <li>{@link io.flexq.runtime.tokenizer.SentencePieceTokenizer}: score-ordered BPE with byte fallback
 *     (llama2.c {@code tokenizer.bin}, GGUF {@code tokenizer.ggml.model = "llama"}, and Hugging Face
 *     {@code tokenizer.json} files of Llama 1/2 and Mistral: BPE with {@code byte_fallback}, read by
 *     {@code SentencePieceJson} with merge ranks in place of scores).</li>
 * <li>{@link io.flexq.runtime.tokenizer.ByteLevelBpeTokenizer}: rank-ordered byte-level BPE after a regex
 *     split (Llama 3 {@code tokenizer.json}, GGUF {@code "gpt2"}).</li>
 * <li>{@link io.flexq.runtime.tokenizer.Tokenizers}: the factory, and {@code checkMatches} to refuse a
 *     tokenizer whose size differs from the model's embedding rows.</li>
 * </ul>
 * Both follow llama.cpp's choices where tokenizers differ (which tokens count as special, the dummy
 * prefix after a special token), so ids agree with llama.cpp's test vectors and its perplexity tool.
 */
package io.flexq.runtime.tokenizer;
