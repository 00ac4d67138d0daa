package io.flexq.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-only: writes a SentencePiece vocabulary (pieces, scores, types) as the tokenizer.json Hugging Face transformers
 * writes for Llama 2 ("LlamaConverter"), from the published recipe, not from the reader under test:
 * <ul>
 * <li>model: BPE, unk_token "&lt;unk&gt;", fuse_unk, byte_fallback, vocab = piece -> id (every piece, byte pieces too);</li>
 * <li>merges: for every piece p and every split p = a + b (by code point) with a and b in the vocabulary, the pair
 *     (a, b); pairs of one piece sorted by (id of a, id of b); then all pairs sorted by p's score, highest first
 *     (a stable sort);</li>
 * <li>added_tokens: the control and unknown pieces, special;</li>
 * <li>{@link Form#LEGACY}: normalizer Sequence[Prepend "▁", Replace " " -> "▁"], no pre-tokenizer, merges as "a b"
 *     strings (Meta's Llama-2 files); {@link Form#METASPACE}: no normalizer, pre-tokenizer Metaspace (prepend_scheme
 *     first, split false), merges as ["a", "b"] pairs (newer transformers/tokenizers);</li>
 * <li>post_processor: TemplateProcessing with &lt;s&gt; first; decoder: Replace, ByteFallback, Fuse, Strip.</li>
 * </ul>
 */
public final class HfLlamaTokenizerJson {

    public enum Form { LEGACY, METASPACE }

    private HfLlamaTokenizerJson() {
    }

    public static String write(SentencePieceTokenizer sp, Form form) {
        int n = sp.vocabularySize();
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < n; id++) {
            ids.putIfAbsent(sp.tokenText(id), id);
        }
        record Merge(String left, String right, float score) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            String piece = sp.tokenText(id);
            int[] cps = piece.codePoints().toArray();
            List<Merge> local = new ArrayList<>();
            for (int k = 1; k < cps.length; k++) {
                String a = new String(cps, 0, k);
                String b = new String(cps, k, cps.length - k);
                if (ids.containsKey(a) && ids.containsKey(b)) {
                    local.add(new Merge(a, b, sp.score(id)));
                }
            }
            local.sort(Comparator.<Merge>comparingInt(m -> ids.get(m.left())).thenComparingInt(m -> ids.get(m.right())));
            merges.addAll(local);
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> m.score()).reversed()); // List.sort is stable

        StringBuilder j = new StringBuilder(1 << 20);
        j.append("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
        boolean first = true;
        for (int id = 0; id < n; id++) {
            TokenType t = sp.tokenType(id);
            if (t == TokenType.CONTROL || t == TokenType.UNKNOWN) {
                j.append(first ? "" : ",").append("{\"id\":").append(id).append(",\"content\":").append(quote(sp.tokenText(id)))
                        .append(",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
                first = false;
            }
        }
        j.append("],");
        if (form == Form.LEGACY) {
            j.append("\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},")
                    .append("{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]},\"pre_tokenizer\":null,");
        } else {
            j.append("\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\",\"split\":false},");
        }
        j.append("\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},")
                .append("{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},");
        j.append("\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},\"content\":\" \"},")
                .append("{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},");
        j.append("\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"continuing_subword_prefix\":null,")
                .append("\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{");
        for (int id = 0; id < n; id++) {
            j.append(id == 0 ? "" : ",").append(quote(sp.tokenText(id))).append(':').append(id);
        }
        j.append("},\"merges\":[");
        for (int i = 0; i < merges.size(); i++) {
            Merge m = merges.get(i);
            j.append(i == 0 ? "" : ",");
            if (form == Form.LEGACY) {
                j.append(quote(m.left() + " " + m.right()));
            } else {
                j.append('[').append(quote(m.left())).append(',').append(quote(m.right())).append(']');
            }
        }
        j.append("]}}");
        return j.toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
