package io.flexq.runtime.tokenizer;

/**
 * The kind of a vocabulary entry, with the values GGUF stores in {@code tokenizer.ggml.token_type}
 * (llama.cpp's {@code llama_token_type}). Looked up by value, never by ordinal.
 */
public enum TokenType {
    /** Ordinary piece: takes part in merges and decodes to its text. */
    NORMAL(1),
    /** The unknown token ({@code <unk>}): output when a character has no piece and no byte fallback. */
    UNKNOWN(2),
    /** Control tokens ({@code <s>}, {@code <|eot_id|>}): never produced by merges, decode to nothing. */
    CONTROL(3),
    /** Added by the user: always split out of the input as a whole, decodes to its text. */
    USER_DEFINED(4),
    /** Reserved slot, never produced. */
    UNUSED(5),
    /** SentencePiece byte-fallback piece {@code <0xNN>}: decodes to that one byte. */
    BYTE(6);

    private final int value;

    TokenType(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /**
     * The type for a GGUF token_type value. 0 (llama.cpp's UNDEFINED) reads as NORMAL, as llama.cpp does.
     *
     * @throws IllegalArgumentException for values outside 0..6
     */
    public static TokenType of(int value) {
        return switch (value) {
            case 0, 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> throw new IllegalArgumentException("unknown token type " + value + " (GGUF defines 0..6)");
        };
    }
}
