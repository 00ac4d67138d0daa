package io.flexq.jlama.convert;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.tokenizer.TokenType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A SentencePiece-style vocabulary (pieces, scores, token types, special ids) as read from GGUF
 * {@code tokenizer.ggml.*} keys or from a llama2.c {@code tokenizer.bin}: what the tokenizer.json writer needs.
 */
record SpVocabulary(String[] pieces, float[] scores, TokenType[] types, int bos, int eos, int unk) {

    /** From GGUF metadata with {@code tokenizer.ggml.model = "llama"}. */
    static SpVocabulary fromGguf(Metadata md) {
        String model = md.getString("tokenizer.ggml.model");
        if (!model.equals("llama")) {
            throw new ModelFormatException(md.source() + ": tokenizer.ggml.model is '" + model
                    + "'; the HF folder converter writes SentencePiece-style (\"llama\") vocabularies only");
        }
        String[] pieces = md.getArray("tokenizer.ggml.tokens", String[].class);
        float[] scores = md.has("tokenizer.ggml.scores") ? md.getArray("tokenizer.ggml.scores", float[].class) : new float[pieces.length];
        TokenType[] types = new TokenType[pieces.length];
        if (md.has("tokenizer.ggml.token_type")) {
            int[] raw = md.getArray("tokenizer.ggml.token_type", int[].class);
            if (raw.length != pieces.length) {
                throw new ModelFormatException(md.source() + ": tokenizer.ggml.token_type has " + raw.length + " entries, tokens " + pieces.length);
            }
            for (int i = 0; i < raw.length; i++) {
                types[i] = TokenType.of(raw[i]);
            }
        } else {
            java.util.Arrays.fill(types, TokenType.NORMAL);
        }
        if (scores.length != pieces.length) {
            throw new ModelFormatException(md.source() + ": tokenizer.ggml.scores has " + scores.length + " entries, tokens " + pieces.length);
        }
        return new SpVocabulary(pieces, scores, types, id(md, "tokenizer.ggml.bos_token_id", 1, pieces.length),
                id(md, "tokenizer.ggml.eos_token_id", 2, pieces.length), id(md, "tokenizer.ggml.unknown_token_id", 0, pieces.length));
    }

    /**
     * From a llama2.c {@code tokenizer.bin}: int32 max piece length, then per piece float32 score, int32 byte
     * length, UTF-8 bytes. Ids 0/1/2 are unk/bos/eos (llama2.c writes the last two as "\n<s>\n", "\n</s>\n");
     * pieces {@code <0xNN>} are byte-fallback pieces.
     */
    static SpVocabulary fromLlama2c(Path file, int vocabSize) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            b.getInt();
            String[] pieces = new String[vocabSize];
            float[] scores = new float[vocabSize];
            TokenType[] types = new TokenType[vocabSize];
            for (int i = 0; i < vocabSize; i++) {
                if (b.remaining() < 8) {
                    throw new ModelFormatException(file + ": ends at piece " + i + " of " + vocabSize + " (offset " + b.position() + ")");
                }
                scores[i] = b.getFloat();
                int len = b.getInt();
                if (len < 0 || len > b.remaining()) {
                    throw new ModelFormatException(file + ": piece " + i + " has length " + len + " at offset " + (b.position() - 4));
                }
                byte[] s = new byte[len];
                b.get(s);
                pieces[i] = specialTrim(new String(s, StandardCharsets.UTF_8));
                types[i] = i == 0 ? TokenType.UNKNOWN : i <= 2 ? TokenType.CONTROL
                        : pieces[i].matches("<0x[0-9A-F]{2}>") ? TokenType.BYTE : TokenType.NORMAL;
            }
            return new SpVocabulary(pieces, scores, types, 1, 2, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the llama2.c tokenizer", e);
        }
    }

    /** "\n<s>\n" -> "<s>": llama2.c's spelling of the control pieces; other pieces are kept as they are. */
    private static String specialTrim(String piece) {
        String t = piece.strip();
        return t.equals("<s>") || t.equals("</s>") || t.equals("<unk>") ? t : piece;
    }

    private static int id(Metadata md, String key, int fallback, int n) {
        if (!md.has(key)) {
            return fallback;
        }
        long v = md.getLong(key);
        return v < 0 || v >= n ? -1 : (int) v;
    }

    int size() {
        return pieces.length;
    }
}
