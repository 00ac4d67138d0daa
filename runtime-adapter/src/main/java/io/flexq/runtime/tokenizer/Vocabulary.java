package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.ModelFormatException;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What both tokenizer families share: the entries (text and type per id) and the special tokens
 * that are cut out of the input before merging. Which tokens count as special follows llama.cpp:
 * USER_DEFINED always; CONTROL and UNKNOWN only when the caller asks to parse special tokens.
 */
final class Vocabulary {

    /** Receives the pieces of an input: plain text to tokenize, and ids of special tokens found in it. */
    interface FragmentSink {
        /** Plain text[start, end): it starts the input or follows a special token (never another text). */
        void text(String text, int start, int end);

        void special(int id);
    }

    /**
     * The longest token text accepted, in UTF-8 bytes. Real vocabularies stay under a kilobyte (SentencePiece's
     * default max_piece_length is 16 characters); the cap bounds the work one token can cost when special
     * tokens are matched in a prompt, and the size of anything that prints a token.
     */
    static final int MAX_TOKEN_BYTES = 1 << 16;

    private final String source;
    private final String[] texts;
    private final TokenType[] types;
    private final Map<String, Integer> specials = new HashMap<>();
    private final SpecialTokenMatcher alwaysSplit;
    private final SpecialTokenMatcher parsedSplit;

    Vocabulary(String source, String[] texts, TokenType[] types) {
        if (texts.length != types.length) {
            throw new IllegalArgumentException(source + ": " + texts.length + " tokens but " + types.length + " token types");
        }
        this.source = source;
        this.texts = texts;
        this.types = types;
        for (int id = 0; id < texts.length; id++) {
            long bytes = utf8Length(texts[id]);
            if (bytes > MAX_TOKEN_BYTES) {
                throw new ModelFormatException(source + ": token " + id + " is " + bytes + " bytes long; the cap is "
                        + MAX_TOKEN_BYTES + " bytes per token (real vocabularies stay under a kilobyte)");
            }
        }
        Map<String, Integer> userDefined = new HashMap<>();
        for (int id = 0; id < texts.length; id++) {
            switch (types[id]) {
                case USER_DEFINED -> {
                    userDefined.putIfAbsent(texts[id], id);
                    specials.putIfAbsent(texts[id], id);
                }
                case CONTROL, UNKNOWN -> specials.putIfAbsent(texts[id], id);
                default -> {
                }
            }
        }
        alwaysSplit = new SpecialTokenMatcher(userDefined);
        parsedSplit = new SpecialTokenMatcher(specials);
    }

    /** UTF-8 length without encoding (an unpaired surrogate counts as the 3 bytes of U+FFFD). */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    String source() {
        return source;
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        return texts[check(id)];
    }

    TokenType type(int id) {
        return types[check(id)];
    }

    OptionalInt special(String text) {
        Integer id = specials.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    int check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " out of range 0.." + (texts.length - 1)
                    + " of the vocabulary from " + source);
        }
        return id;
    }

    /** Cuts special tokens out of {@code text} and hands the pieces to {@code sink} in order. */
    void split(String text, boolean parseSpecial, FragmentSink sink) {
        SpecialTokenMatcher matcher = parseSpecial ? parsedSplit : alwaysSplit;
        int pos = 0;
        SpecialTokenMatcher.Match m;
        while ((m = matcher.next(text, pos)) != null) {
            if (m.start() > pos) {
                sink.text(text, pos, m.start());
            }
            sink.special(m.id());
            pos = m.end();
        }
        if (pos < text.length()) {
            sink.text(text, pos, text.length());
        }
    }
}
