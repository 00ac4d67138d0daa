package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFormatException;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a tokenizer from GGUF {@code tokenizer.ggml.*} metadata, the keys llama.cpp writes:
 * {@code model} ("llama" = SentencePiece, "gpt2" = byte-level BPE), {@code pre} (the BPE split
 * pattern's name), {@code tokens}, {@code scores}, {@code token_type}, {@code merges},
 * {@code bos_token_id}, {@code eos_token_id}, {@code unknown_token_id}, {@code add_bos_token},
 * {@code add_space_prefix}. Ids of 0xFFFFFFFF (or any negative) mean "none".
 */
final class GgufTokenizerMetadata {

    private GgufTokenizerMetadata() {
    }

    static Tokenizer read(Metadata md) {
        String model = md.getString("tokenizer.ggml.model");
        String[] tokens = md.getArray("tokenizer.ggml.tokens", String[].class);
        if (tokens.length == 0) {
            throw new ModelFormatException(md.source() + ": tokenizer.ggml.tokens is empty");
        }
        TokenType[] types = types(md, tokens.length);
        try {
            return switch (model) {
                case "llama" -> sentencePiece(md, tokens, types);
                case "gpt2" -> byteLevel(md, tokens, types);
                default -> throw new ModelFormatException(md.source() + ": tokenizer.ggml.model = '" + model
                        + "' is not supported (supported: 'llama' = SentencePiece, 'gpt2' = byte-level BPE)");
            };
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.source() + ": bad tokenizer metadata: " + e.getMessage(), e);
        }
    }

    private static Tokenizer sentencePiece(Metadata md, String[] tokens, TokenType[] types) {
        float[] scores;
        if (md.has("tokenizer.ggml.scores")) {
            scores = md.getArray("tokenizer.ggml.scores", float[].class);
            if (scores.length != tokens.length) {
                throw new ModelFormatException(md.source() + ": tokenizer.ggml.scores has " + scores.length
                        + " entries but tokenizer.ggml.tokens has " + tokens.length);
            }
        } else {
            scores = new float[tokens.length];
        }
        return new SentencePieceTokenizer(md.source(), tokens, scores, types,
                optionalId(md, "tokenizer.ggml.bos_token_id", 1, tokens.length),
                optionalId(md, "tokenizer.ggml.eos_token_id", 2, tokens.length),
                optionalId(md, "tokenizer.ggml.unknown_token_id", 0, tokens.length),
                md.getBoolean("tokenizer.ggml.add_bos_token", true),
                md.getBoolean("tokenizer.ggml.add_space_prefix", true));
    }

    private static Tokenizer byteLevel(Metadata md, String[] tokens, TokenType[] types) {
        String pre = md.getString("tokenizer.ggml.pre", "default");
        PreTokenizer split = switch (pre) {
            case "llama3", "llama-v3", "llama-bpe" -> PreTokenizer.LLAMA3;
            case "default", "gpt2", "gpt-2" -> PreTokenizer.GPT2;
            default -> throw new ModelFormatException(md.source() + ": tokenizer.ggml.pre = '" + pre
                    + "' is not supported (supported: 'llama-bpe'/'llama3' and 'default'/'gpt2')");
        };
        boolean llama3 = split == PreTokenizer.LLAMA3;
        String[] mergeTexts = md.getArray("tokenizer.ggml.merges", String[].class);
        List<String[]> merges = new ArrayList<>(mergeTexts.length);
        for (int i = 0; i < mergeTexts.length; i++) {
            merges.add(splitMerge(mergeTexts[i], md.source() + ": tokenizer.ggml.merges[" + i + "]"));
        }
        int bos = optionalId(md, "tokenizer.ggml.bos_token_id", -1, tokens.length);
        return new ByteLevelBpeTokenizer(md.source(), tokens, types, merges, split,
                bos, optionalId(md, "tokenizer.ggml.eos_token_id", -1, tokens.length),
                md.getBoolean("tokenizer.ggml.add_bos_token", llama3 && bos >= 0), llama3);
    }

    /** "Ġ t" -> {"Ġ", "t"}: byte-level texts hold no plain space, so the one space separates the pair. */
    static String[] splitMerge(String merge, String where) {
        int space = merge.indexOf(' ');
        if (space <= 0 || space == merge.length() - 1 || merge.indexOf(' ', space + 1) >= 0) {
            throw new ModelFormatException(where + " = '" + merge + "' is not two tokens separated by one space");
        }
        return new String[] {merge.substring(0, space), merge.substring(space + 1)};
    }

    private static TokenType[] types(Metadata md, int n) {
        TokenType[] types = new TokenType[n];
        if (!md.has("tokenizer.ggml.token_type")) {
            java.util.Arrays.fill(types, TokenType.NORMAL);
            return types;
        }
        int[] raw = md.getArray("tokenizer.ggml.token_type", int[].class);
        if (raw.length != n) {
            throw new ModelFormatException(md.source() + ": tokenizer.ggml.token_type has " + raw.length
                    + " entries but tokenizer.ggml.tokens has " + n);
        }
        for (int i = 0; i < n; i++) {
            try {
                types[i] = TokenType.of(raw[i]);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(md.source() + ": tokenizer.ggml.token_type[" + i + "]: " + e.getMessage());
            }
        }
        return types;
    }

    /** An id key: absent -> the default; 0xFFFFFFFF or negative -> -1 (none); past the vocabulary -> error. */
    private static int optionalId(Metadata md, String key, int defaultId, int vocabSize) {
        if (!md.has(key)) {
            return defaultId < vocabSize ? defaultId : -1;
        }
        long v = md.getLong(key);
        if (v < 0 || v == 0xFFFF_FFFFL) {
            return -1;
        }
        if (v >= vocabSize) {
            throw new ModelFormatException(md.source() + ": " + key + " = " + v + " is outside the vocabulary of " + vocabSize + " tokens");
        }
        return (int) v;
    }
}
