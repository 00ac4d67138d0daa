package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.ModelFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama2.c's {@code tokenizer.bin} (written by its tokenizer.py export), little-endian:
 * <pre>
 *   int32 max_token_length
 *   repeated to the end of the file: float32 score, int32 len, len bytes of UTF-8 text
 * </pre>
 * The export wrote SentencePiece's "▁" as a plain space and BOS/EOS as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n";
 * the file has no token types. Reading undoes both and infers the types the way llama.cpp's
 * llama2.c converter does: {@code <unk>} UNKNOWN, {@code <s>}/{@code </s>} CONTROL,
 * {@code <0xNN>} BYTE, everything else NORMAL.
 */
final class Llama2cTokenizerFile {

    /** A tokenizer.bin is a few hundred KB even for 32k pieces; refuse anything absurd before reading it. */
    private static final long MAX_FILE_BYTES = 256L << 20;
    /** Vocabulary pieces are words; anything longer than this in the header means the file is something else. */
    private static final int MAX_PIECE_BYTES = 1 << 16;

    private Llama2cTokenizerFile() {
    }

    static SentencePieceTokenizer read(Path path) {
        byte[] data;
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new ModelFormatException(path + ": " + size + " bytes is too large for a llama2.c tokenizer.bin"
                        + " (is this a model checkpoint rather than the tokenizer?)");
            }
            data = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot read llama2.c tokenizer: " + e.getMessage(), e);
        }
        return parse(data, path.toString());
    }

    static SentencePieceTokenizer parse(byte[] data, String source) {
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) {
            throw new ModelFormatException(source + ": llama2.c tokenizer is " + data.length
                    + " bytes, too short for its 4-byte header");
        }
        int maxTokenLength = in.getInt();
        if (maxTokenLength <= 0 || maxTokenLength > MAX_PIECE_BYTES) {
            throw new ModelFormatException(source + ": llama2.c tokenizer header max_token_length = " + maxTokenLength
                    + " is not a plausible piece length (1.." + MAX_PIECE_BYTES + "); not a tokenizer.bin?");
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> texts = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining()) {
            int at = in.position();
            int id = texts.size();
            if (in.remaining() < 8) {
                throw new ModelFormatException(source + ": truncated at byte offset " + at + ": token " + id
                        + " needs an 8-byte score/length header, " + in.remaining() + " bytes left");
            }
            float score = in.getFloat();
            int len = in.getInt();
            if (len < 0 || len > maxTokenLength) {
                throw new ModelFormatException(source + ": token " + id + " at byte offset " + at + " has length " + len
                        + ", outside 0.." + maxTokenLength + " (the header's max_token_length)");
            }
            if (len > in.remaining()) {
                throw new ModelFormatException(source + ": truncated at byte offset " + (at + 8) + ": token " + id
                        + " needs " + len + " bytes, " + in.remaining() + " left");
            }
            if (Float.isNaN(score)) {
                throw new ModelFormatException(source + ": token " + id + " at byte offset " + at + " has a NaN score");
            }
            String text;
            try {
                text = decoder.decode(in.slice(in.position(), len)).toString();
            } catch (CharacterCodingException e) {
                throw new ModelFormatException(source + ": token " + id + " at byte offset " + at + " is not valid UTF-8");
            }
            in.position(in.position() + len);
            texts.add(text);
            scores.add(score);
        }
        if (texts.isEmpty()) {
            throw new ModelFormatException(source + ": llama2.c tokenizer holds no tokens");
        }

        int n = texts.size();
        String[] pieces = new String[n];
        float[] s = new float[n];
        TokenType[] types = new TokenType[n];
        int bos = -1;
        int eos = -1;
        int unk = -1;
        for (int id = 0; id < n; id++) {
            String t = texts.get(id);
            s[id] = scores.get(id);
            switch (t) {
                case "\n<s>\n" -> {
                    pieces[id] = "<s>";
                    types[id] = TokenType.CONTROL;
                    bos = bos < 0 ? id : bos;
                }
                case "\n</s>\n" -> {
                    pieces[id] = "</s>";
                    types[id] = TokenType.CONTROL;
                    eos = eos < 0 ? id : eos;
                }
                case "<unk>" -> {
                    pieces[id] = t;
                    types[id] = unk < 0 ? TokenType.UNKNOWN : TokenType.NORMAL;
                    unk = unk < 0 ? id : unk;
                }
                default -> {
                    boolean isByte = SentencePieceTokenizer.byteValue(t) >= 0;
                    pieces[id] = isByte ? t : t.replace(' ', (char) SentencePieceTokenizer.SPACE_SYMBOL);
                    types[id] = isByte ? TokenType.BYTE : TokenType.NORMAL;
                }
            }
        }
        return new SentencePieceTokenizer(source, pieces, s, types, bos, eos, unk, true, true);
    }
}
