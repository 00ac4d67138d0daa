package io.flexq.jlama.convert;

import io.flexq.runtime.tokenizer.TokenType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An HF {@code tokenizer.json} for a SentencePiece-style BPE vocabulary (Llama 2's settings): model type BPE
 * with {@code byte_fallback}, the normalizer "prepend ▁, replace ' ' with ▁", control and unknown pieces as
 * special added tokens.
 *
 * <p>SentencePiece BPE has no merge list: it repeatedly joins the adjacent pair whose joined piece has the
 * highest score. The equivalent ranked list is every split {@code (left, right)} of every normal piece whose
 * halves are both pieces, ordered by the joined piece's score (highest first; ties by left id, then right
 * id): the BPE merge loop then picks, among the pairs present, the one SentencePiece would.
 */
final class TokenizerJson {

    private TokenizerJson() {
    }

    static String write(SpVocabulary v) {
        Map<String, Integer> ids = new HashMap<>();
        Map<String, Object> vocab = new LinkedHashMap<>();
        for (int i = 0; i < v.size(); i++) {
            ids.putIfAbsent(v.pieces()[i], i);
            vocab.put(v.pieces()[i], i);
        }
        record Merge(String left, String right, float score, int leftId, int rightId) {
        }
        List<Merge> merges = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (v.types()[i] != TokenType.NORMAL) {
                continue;
            }
            String p = v.pieces()[i];
            for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                Integer l = ids.get(p.substring(0, k));
                Integer r = ids.get(p.substring(k));
                if (l != null && r != null && v.types()[l] == TokenType.NORMAL && v.types()[r] == TokenType.NORMAL) {
                    merges.add(new Merge(p.substring(0, k), p.substring(k), v.scores()[i], l, r));
                }
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::leftId).thenComparingInt(Merge::rightId));
        List<Object> mergeList = new ArrayList<>(merges.size());
        for (Merge m : merges) {
            mergeList.add(List.of(m.left(), m.right()));
        }

        List<Object> added = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (v.types()[i] == TokenType.CONTROL || v.types()[i] == TokenType.UNKNOWN) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("id", i);
                t.put("content", v.pieces()[i]);
                t.put("single_word", false);
                t.put("lstrip", false);
                t.put("rstrip", false);
                t.put("normalized", false);
                t.put("special", true);
                added.add(t);
            }
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", added);
        root.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                orderedMap("type", "Prepend", "prepend", "\u2581"),
                orderedMap("type", "Replace", "pattern", Map.of("String", " "), "content", "\u2581"))));
        root.put("pre_tokenizer", null);
        root.put("post_processor", null);
        root.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                orderedMap("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", " "),
                Map.of("type", "ByteFallback"), Map.of("type", "Fuse"),
                orderedMap("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", v.unk() >= 0 ? v.pieces()[v.unk()] : null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        model.put("vocab", vocab);
        model.put("merges", mergeList);
        root.put("model", model);
        return JsonOut.write(root);
    }

    /** tokenizer_config.json: the special pieces by name, no legacy handling, BOS added, a plain-text chat template. */
    static String config(SpVocabulary v) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("legacy", false);
        if (v.bos() >= 0) c.put("bos_token", v.pieces()[v.bos()]);
        if (v.eos() >= 0) c.put("eos_token", v.pieces()[v.eos()]);
        if (v.unk() >= 0) c.put("unk_token", v.pieces()[v.unk()]);
        c.put("tokenizer_class", "LlamaTokenizer");
        // our models are base models: a chat turn is plain text to continue (system text first), so chat APIs work
        c.put("chat_template", "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
                + "{% elif message['role'] == 'user' %}{{ message['content'] }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}");
        return JsonOut.write(c);
    }

    private static Map<String, Object> orderedMap(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
