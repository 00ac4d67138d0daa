package io.flexq.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of generated tokens into text as it comes. Byte tokens (SentencePiece {@code <0xE2>},
 * or a byte-level piece that ends mid-character) can split a UTF-8 character across tokens; the
 * decoder prints what is complete and keeps at most 3 bytes of an unfinished character for the next call.
 */
public final class TokenStreamDecoder {

    private final Tokenizer tokenizer;
    private int prev = -1;
    private byte[] pending = new byte[0];

    TokenStreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Text completed by this token (may be empty). */
    public String accept(int token) {
        byte[] piece = tokenizer.pieceBytes(prev, token);
        prev = token;
        byte[] all = concat(pending, piece);
        int complete = completePrefix(all);
        pending = Arrays.copyOfRange(all, complete, all.length);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Whatever is held back, with an unfinished character shown as U+FFFD; resets the stream. */
    public String flush() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        prev = -1;
        return rest;
    }

    /**
     * Length of the longest prefix that does not end inside a UTF-8 sequence which could still be
     * completed: the last lead byte (0b11xxxxxx) announces 2, 3 or 4 bytes; if fewer follow, cut before it.
     * Invalid bytes are not held (they would never complete) and decode to U+FFFD.
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? (c < 0xF0 ? 3 : 1) : c >= 0xC2 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        if (a.length == 0) {
            return b;
        }
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
