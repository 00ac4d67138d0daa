package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.ModelFormatException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece-style BPE in a Hugging Face {@code tokenizer.json} (Llama 1/2, Mistral, TinyLlama): {@code model.type}
 * BPE with {@code byte_fallback: true}, pieces with "▁" for spaces, {@code <0xNN>} byte pieces, ranked merges. It becomes
 * a {@link SentencePieceTokenizer}, the same encoder the runtime uses for GGUF {@code llama} vocabularies.
 *
 * <p>The space handling is read from either form transformers writes for Llama 2:
 * <ul>
 * <li>legacy (Meta's published files): {@code normalizer} = Sequence[Prepend "▁", Replace " " -> "▁"],
 *     {@code pre_tokenizer} null;</li>
 * <li>newer converters: {@code normalizer} null, {@code pre_tokenizer} = Metaspace {replacement "▁", split false,
 *     prepend_scheme "always" or "first"}.</li>
 * </ul>
 * A Replace without Prepend (or prepend_scheme "never") means no dummy prefix. Anything else is refused by name.
 *
 * <p>Merge order: transformers derives the merges of such a file from the SentencePiece model, every split (a, b)
 * of a piece a+b with both halves in the vocabulary, sorted by the piece's score, best first. So a piece's rank
 * (its first merge's index) orders pieces as their scores did, and score = -rank gives SentencePiece's best-first
 * merging back. Where the two rules could differ (two different splits of one piece ready at once; a piece that no
 * merge produces, which SentencePiece still forms and HF BPE never does) this encoder follows SentencePiece, as
 * llama.cpp does for the same vocabulary; a file converted from a SentencePiece model has neither case.
 */
final class SentencePieceJson {

    private static final String SPACE = "\u2581";

    private SentencePieceJson() {
    }

    static SentencePieceTokenizer read(String source, Map<?, ?> root, Map<?, ?> model, Map<?, ?> config) {
        boolean prefix = spacePrefix(root, source);
        if (model.get("dropout") instanceof Number d && d.doubleValue() > 0) {
            throw new ModelFormatException(source + ": model.dropout = " + d + " (BPE dropout) is not supported for inference");
        }

        // Ids: model.vocab plus added tokens; any gap is an UNUSED slot.
        Map<?, ?> vocab = TokenizerJsonFile.asMap(model.get("vocab"), source, "'model.vocab'");
        List<?> added = root.get("added_tokens") == null ? List.of() : TokenizerJsonFile.asList(root.get("added_tokens"), source, "'added_tokens'");
        int size = 0;
        for (Object id : vocab.values()) {
            size = Math.max(size, TokenizerJsonFile.checkedId(id, source, "model.vocab") + 1);
        }
        for (Object a : added) {
            size = Math.max(size, TokenizerJsonFile.checkedId(TokenizerJsonFile.asMap(a, source, "an added token").get("id"), source, "added_tokens") + 1);
        }
        TokenizerJsonFile.checkIdSpace(size, vocab.size() + added.size(), source);
        String[] texts = new String[size];
        TokenType[] types = new TokenType[size];
        Map<String, Integer> ids = new HashMap<>();
        vocab.forEach((text, idObj) -> {
            int id = TokenizerJsonFile.checkedId(idObj, source, "model.vocab");
            if (texts[id] != null) {
                throw new ModelFormatException(source + ": id " + id + " is used by both '" + texts[id] + "' and '" + text + "'");
            }
            texts[id] = (String) text;
            types[id] = SentencePieceTokenizer.byteValue((String) text) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
            ids.put((String) text, id);
        });
        for (Object a : added) {
            Map<?, ?> t = (Map<?, ?>) a;
            int id = TokenizerJsonFile.checkedId(t.get("id"), source, "added_tokens");
            if (!(t.get("content") instanceof String text)) {
                throw new ModelFormatException(source + ": added token " + id + " has no string 'content'");
            }
            if (texts[id] != null && !texts[id].equals(text)) {
                throw new ModelFormatException(source + ": id " + id + " is both '" + texts[id] + "' and added token '" + text + "'");
            }
            texts[id] = text;
            // special ones (<s>, </s>) are control tokens; others are matched literally in any input, as HF does
            types[id] = Boolean.TRUE.equals(t.get("special")) ? TokenType.CONTROL : TokenType.USER_DEFINED;
            ids.putIfAbsent(text, id);
        }
        for (int id = 0; id < size; id++) {
            if (texts[id] == null) {
                texts[id] = "";
                types[id] = TokenType.UNUSED;
            }
        }
        int unk = -1;
        if (model.get("unk_token") instanceof String u) {
            Integer id = ids.get(u);
            if (id == null) {
                throw new ModelFormatException(source + ": model.unk_token '" + u + "' is not in the vocabulary");
            }
            unk = id;
            types[unk] = TokenType.UNKNOWN;
        }

        float[] scores = scores(TokenizerJsonFile.merges(model, source), ids, texts, types, source);

        int bos = TokenizerJsonFile.specialId(config.get("bos_token"), texts, source, "<s>");
        int eos = TokenizerJsonFile.specialId(config.get("eos_token"), texts, source, "</s>");
        boolean addBos = config.get("add_bos_token") instanceof Boolean b ? b : postProcessorAddsBos(root.get("post_processor"), bos, texts);
        try {
            return new SentencePieceTokenizer(source, texts, scores, types, bos, eos, unk, addBos, prefix);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    /**
     * score[piece] = -(index of the first merge that forms it); pieces no merge forms get -Float.MAX_VALUE (merged
     * last; single code points and byte/control pieces never take part in a merge anyway).
     */
    private static float[] scores(List<String[]> merges, Map<String, Integer> ids, String[] texts, TokenType[] types, String source) {
        if (merges.size() >= 1 << 24) {
            throw new ModelFormatException(source + ": " + merges.size() + " merges; ranks from 2^24 on have no exact float score");
        }
        float[] scores = new float[texts.length];
        Arrays.fill(scores, -Float.MAX_VALUE);
        for (int rank = merges.size() - 1; rank >= 0; rank--) {
            String[] m = merges.get(rank);
            Integer left = ids.get(m[0]);
            Integer right = ids.get(m[1]);
            Integer merged = ids.get(m[0] + m[1]);
            if (left == null || right == null || merged == null) {
                String missing = left == null ? m[0] : right == null ? m[1] : m[0] + m[1];
                throw new ModelFormatException(source + ": model.merges[" + rank + "] '" + m[0] + " " + m[1]
                        + "' uses '" + missing + "', which is not in the vocabulary");
            }
            scores[merged] = -rank; // walking backwards, the first (best) rank is written last
        }
        return scores;
    }

    /** True for the legacy normalizer or a Metaspace pre-tokenizer that prepends "▁"; false without a prefix. */
    private static boolean spacePrefix(Map<?, ?> root, String source) {
        Object normalizer = root.get("normalizer");
        Object pre = root.get("pre_tokenizer");
        if (normalizer != null && pre != null) {
            throw new ModelFormatException(source + ": both a normalizer and a pre_tokenizer are set; a SentencePiece-style "
                    + "tokenizer.json has one of them (Prepend+Replace normalizer, or a Metaspace pre-tokenizer)");
        }
        if (normalizer != null) {
            return legacyNormalizer(TokenizerJsonFile.asMap(normalizer, source, "'normalizer'"), source);
        }
        if (pre != null) {
            return metaspace(TokenizerJsonFile.asMap(pre, source, "'pre_tokenizer'"), source);
        }
        throw new ModelFormatException(source + ": byte_fallback BPE without a normalizer or pre_tokenizer: spaces would never "
                + "become '" + SPACE + "' (expected Sequence[Prepend, Replace] or Metaspace)");
    }

    private static boolean legacyNormalizer(Map<?, ?> n, String source) {
        List<?> steps = "Sequence".equals(n.get("type")) ? TokenizerJsonFile.asList(n.get("normalizers"), source, "'normalizer.normalizers'") : List.of(n);
        boolean prepend = false;
        boolean replace = false;
        for (Object o : steps) {
            Map<?, ?> s = TokenizerJsonFile.asMap(o, source, "a normalizer");
            String type = String.valueOf(s.get("type"));
            switch (type) {
                case "Prepend" -> {
                    if (!SPACE.equals(s.get("prepend")) || prepend) {
                        throw new ModelFormatException(source + ": normalizer Prepend '" + s.get("prepend") + "' is not supported (only one Prepend of '" + SPACE + "')");
                    }
                    prepend = true;
                }
                case "Replace" -> {
                    Object pattern = s.get("pattern") instanceof Map<?, ?> p ? p.get("String") : null;
                    if (!" ".equals(pattern) || !SPACE.equals(s.get("content")) || replace) {
                        throw new ModelFormatException(source + ": normalizer Replace " + s.get("pattern") + " -> '" + s.get("content")
                                + "' is not supported (only one Replace of \" \" by '" + SPACE + "')");
                    }
                    replace = true;
                }
                default -> throw new ModelFormatException(source + ": normalizer type '" + type + "' is not supported in a SentencePiece-style "
                        + "tokenizer.json (only Prepend '" + SPACE + "' and Replace ' ' -> '" + SPACE + "')");
            }
        }
        if (!replace) {
            throw new ModelFormatException(source + ": the normalizer never replaces ' ' by '" + SPACE + "'");
        }
        return prepend;
    }

    private static boolean metaspace(Map<?, ?> p, String source) {
        if (!"Metaspace".equals(p.get("type"))) {
            throw new ModelFormatException(source + ": pre-tokenizer type '" + p.get("type") + "' is not supported with byte_fallback (only Metaspace)");
        }
        if (!SPACE.equals(p.get("replacement"))) {
            throw new ModelFormatException(source + ": Metaspace replacement '" + p.get("replacement") + "' is not supported (only '" + SPACE + "')");
        }
        if (!Boolean.FALSE.equals(p.get("split"))) {
            // splitting at every "▁" would keep runs like "▁▁" (code indentation pieces) from forming
            throw new ModelFormatException(source + ": Metaspace with split = " + p.get("split") + " is not supported (only split: false)");
        }
        Object scheme = p.get("prepend_scheme");
        if (scheme == null) {
            return !Boolean.FALSE.equals(p.get("add_prefix_space"));
        }
        return switch (String.valueOf(scheme)) {
            // "first" adds no prefix after a special token inside one input; this encoder prefixes each text piece
            // (as llama.cpp does), which differs only when an input holds special tokens and parseSpecial is on
            case "always", "first" -> true;
            case "never" -> false;
            default -> throw new ModelFormatException(source + ": Metaspace prepend_scheme '" + scheme + "' is not one of always, first, never");
        };
    }

    /** HF adds BOS through a TemplateProcessing post-processor whose single template starts with it. */
    private static boolean postProcessorAddsBos(Object node, int bos, String[] texts) {
        if (bos < 0) {
            return false;
        }
        if (node instanceof Map<?, ?> pp && "TemplateProcessing".equals(pp.get("type")) && pp.get("single") instanceof List<?> single) {
            return !single.isEmpty() && single.getFirst() instanceof Map<?, ?> first
                    && first.get("SpecialToken") instanceof Map<?, ?> st && texts[bos].equals(st.get("id"));
        }
        return node == null; // no post-processor at all: the Llama convention (BOS first) of the vocabulary
    }
}
