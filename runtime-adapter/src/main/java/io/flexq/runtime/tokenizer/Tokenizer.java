package io.flexq.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * Text to token ids and back. Two families: {@link SentencePieceTokenizer} (Llama 1/2, llama2.c,
 * score-ordered merges with byte fallback) and {@link ByteLevelBpeTokenizer} (Llama 3, GPT-2 style
 * byte-level BPE with ranked merges). Build them with {@link Tokenizers}.
 *
 * <p>Instances are immutable apart from internal caches and may be shared between threads.
 */
public sealed interface Tokenizer permits SentencePieceTokenizer, ByteLevelBpeTokenizer {

    /** Where the vocabulary came from (a file path), for messages. */
    String source();

    /** Number of token ids, i.e. ids run 0 .. vocabularySize()-1. Must equal the model's embedding rows. */
    int vocabularySize();

    /** Beginning-of-sequence id, or -1 if the vocabulary has none. */
    int bos();

    /** End-of-sequence id, or -1 if the vocabulary has none. */
    int eos();

    /** Whether the model expects BOS in front of a prompt ({@code tokenizer.ggml.add_bos_token}). */
    boolean addBos();

    /** The id of a special token (control, user-defined or unknown) with exactly this text, e.g. "<|eot_id|>". */
    OptionalInt specialToken(String text);

    /** The vocabulary entry as stored (SentencePiece "▁the", byte-level "Ġthe", "<0x0A>", "<s>"). */
    String tokenText(int id);

    TokenType tokenType(int id);

    /**
     * Encodes text without BOS.
     *
     * @param parseSpecial when true, the text of control tokens ("<s>", "<|eot_id|>") becomes those ids;
     *                     when false it is tokenized as plain characters (how llama-perplexity reads
     *                     WikiText's literal "&lt;unk&gt;"). User-defined tokens are split out either way.
     */
    int[] encode(String text, boolean parseSpecial);

    /** Plain text without BOS: {@code encode(text, false)}. */
    default int[] encode(String text) {
        return encode(text, false);
    }

    /** Encodes with BOS in front (when the vocabulary has one). */
    default int[] encodeWithBos(String text, boolean parseSpecial) {
        int[] body = encode(text, parseSpecial);
        if (bos() < 0) {
            return body;
        }
        int[] out = new int[body.length + 1];
        out[0] = bos();
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    /**
     * The bytes one token adds to the output when it follows {@code prevToken} (-1: start of text).
     * SentencePiece drops the leading space of a piece that starts the text or follows BOS (the
     * dummy prefix the encoder added). Control tokens give no bytes. A byte token gives one byte,
     * possibly part of a UTF-8 sequence: use {@link #decoder()} to stream text.
     */
    byte[] pieceBytes(int prevToken, int token);

    /** {@link #pieceBytes} as a string (an incomplete UTF-8 sequence shows as U+FFFD). */
    default String decodePiece(int prevToken, int token) {
        return new String(pieceBytes(prevToken, token), StandardCharsets.UTF_8);
    }

    /** The text of a whole sequence, as if streamed from the start of a text (a leading BOS is allowed). */
    default String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        int prev = -1;
        for (int id : ids) {
            bytes.writeBytes(pieceBytes(prev, id));
            prev = id;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A stateful decoder for streaming generation that holds back incomplete UTF-8 sequences. */
    default TokenStreamDecoder decoder() {
        return new TokenStreamDecoder(this);
    }

    /** Whether this id is in range; every id-taking method throws IllegalArgumentException otherwise. */
    default boolean isValid(int id) {
        return id >= 0 && id < vocabularySize();
    }
}
