package io.flexq.runtime.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-to-character table, shared by every byte-level BPE (GPT-2, Llama 3): each byte is
 * written as one printable character so a vocabulary of strings can hold arbitrary bytes.
 * The bytes that are already printable and not spaces keep their own code point
 * ('!'..'~' = 33..126, '¡'..'¬' = 161..172, '®'..'ÿ' = 174..255); the other 68 bytes, in increasing
 * order, become U+0100, U+0101, ... (so ' ' = 32 is 'Ġ' U+0120 and '\n' = 10 is 'Ċ' U+010A).
 */
final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a character stands for, or -1 if it is not one of the 256 byte characters. */
    static int byteOf(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Bytes written as byte-level characters: "Hello world" -> "HelloĠworld". */
    static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }
}
