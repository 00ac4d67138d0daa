package io.flexq.plugin.fq6;

import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.tokenizer.SentencePieceTokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A SentencePiece vocabulary (e.g. llama2.c's tokenizer.bin) as the GGUF {@code tokenizer.ggml.*} keys llama.cpp's
 * llama2.c converter writes, so an FQ6 file made from a llama2.c checkpoint carries its own tokenizer:
 * model "llama", tokens (the pieces as stored, "▁" for the word boundary), scores (float32), token_type
 * (int32, llama_token_type values), and bos / eos / unknown token ids (uint32).
 */
public final class TokenizerKeys {

    private TokenizerKeys() {
    }

    /** The keys in write order, each with its GGUF type (element type for arrays). */
    public record Keys(Map<String, Object> values, Map<String, GgufType> types) {
    }

    public static Keys of(SentencePieceTokenizer tok) {
        int n = tok.vocabularySize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = tok.tokenText(i);
            scores[i] = tok.score(i);
            types[i] = tok.tokenType(i).value();
        }
        Map<String, Object> v = new LinkedHashMap<>();
        Map<String, GgufType> t = new LinkedHashMap<>();
        put(v, t, "tokenizer.ggml.model", GgufType.STRING, "llama");
        put(v, t, "tokenizer.ggml.tokens", GgufType.STRING, tokens);
        put(v, t, "tokenizer.ggml.scores", GgufType.FLOAT32, scores);
        put(v, t, "tokenizer.ggml.token_type", GgufType.INT32, types);
        if (tok.bos() >= 0) {
            put(v, t, "tokenizer.ggml.bos_token_id", GgufType.UINT32, (long) tok.bos());
        }
        if (tok.eos() >= 0) {
            put(v, t, "tokenizer.ggml.eos_token_id", GgufType.UINT32, (long) tok.eos());
        }
        if (tok.unk() >= 0) {
            put(v, t, "tokenizer.ggml.unknown_token_id", GgufType.UINT32, (long) tok.unk());
        }
        return new Keys(v, t);
    }

    private static void put(Map<String, Object> v, Map<String, GgufType> t, String key, GgufType type, Object value) {
        v.put(key, value);
        t.put(key, type);
    }
}
