package io.flexq.runtime.tokenizer;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json}. A BPE model with {@code byte_fallback: true} is SentencePiece-style
 * (Llama 1/2, Mistral; read by {@link SentencePieceJson}); otherwise it is a byte-level BPE (Llama 3, GPT-2 family):
 * {@code model.vocab} (text -> id), {@code model.merges} ("a b" strings or ["a", "b"] pairs, in rank
 * order), {@code model.ignore_merges}, {@code added_tokens} (special -> CONTROL, else USER_DEFINED)
 * and {@code pre_tokenizer}, which must be one of the splits {@link PreTokenizer} knows.
 *
 * <p>BOS/EOS come from {@code tokenizer_config.json} beside the file when it is there
 * ({@code bos_token}, {@code eos_token}, {@code add_bos_token}), otherwise from the usual names
 * ({@code <|begin_of_text|>}, {@code <|end_of_text|>}, {@code <s>}, {@code </s>}, {@code <|endoftext|>}).
 */
final class TokenizerJsonFile {

    private static final long MAX_FILE_BYTES = 512L << 20;

    private TokenizerJsonFile() {
    }

    static Tokenizer read(Path path) {
        String source = path.toString();
        Map<?, ?> root = asMap(parseJson(path), source, "the document");
        Map<?, ?> model = asMap(root.get("model"), source, "'model'");
        Object type = model.get("type");
        if (!"BPE".equals(type)) {
            throw new ModelFormatException(source + ": model.type is " + type + "; only \"BPE\" (byte-level, or SentencePiece-style with byte_fallback) is supported");
        }
        if (Boolean.TRUE.equals(model.get("byte_fallback"))) {
            return SentencePieceJson.read(source, root, model, siblingConfig(path));
        }
        return readByteLevel(path, source, root, model);
    }

    private static ByteLevelBpeTokenizer readByteLevel(Path path, String source, Map<?, ?> root, Map<?, ?> model) {
        if (root.get("normalizer") != null) {
            throw new ModelFormatException(source + ": a 'normalizer' is set; byte-level BPE without normalizer is all that is supported");
        }
        PreTokenizer split = preTokenizer(root.get("pre_tokenizer"), source);

        // Ids: the model vocabulary plus added tokens; any gap becomes an UNUSED slot.
        Map<?, ?> vocab = asMap(model.get("vocab"), source, "'model.vocab'");
        List<?> added = root.get("added_tokens") == null ? List.of() : asList(root.get("added_tokens"), source, "'added_tokens'");
        int size = 0;
        for (Object id : vocab.values()) {
            size = Math.max(size, checkedId(id, source, "model.vocab") + 1);
        }
        for (Object a : added) {
            size = Math.max(size, checkedId(asMap(a, source, "an added token").get("id"), source, "added_tokens") + 1);
        }
        checkIdSpace(size, vocab.size() + added.size(), source);
        String[] texts = new String[size];
        TokenType[] types = new TokenType[size];
        vocab.forEach((text, id) -> place(texts, types, checkedId(id, source, "model.vocab"), (String) text, TokenType.NORMAL, source));
        for (Object a : added) {
            Map<?, ?> t = (Map<?, ?>) a;
            int id = checkedId(t.get("id"), source, "added_tokens");
            Object content = t.get("content");
            if (!(content instanceof String text)) {
                throw new ModelFormatException(source + ": added token " + id + " has no string 'content'");
            }
            TokenType tt = Boolean.TRUE.equals(t.get("special")) ? TokenType.CONTROL : TokenType.USER_DEFINED;
            if (texts[id] != null && !texts[id].equals(text)) {
                throw new ModelFormatException(source + ": id " + id + " is both '" + texts[id] + "' and added token '" + text + "'");
            }
            texts[id] = text;
            types[id] = tt;
        }
        for (int id = 0; id < size; id++) {
            if (texts[id] == null) {
                texts[id] = "";
                types[id] = TokenType.UNUSED;
            }
        }

        List<String[]> merges = merges(model, source);

        Map<?, ?> config = siblingConfig(path);
        int bos = specialId(config.get("bos_token"), texts, source, "<|begin_of_text|>", "<s>", "<|endoftext|>");
        int eos = specialId(config.get("eos_token"), texts, source, "<|end_of_text|>", "</s>", "<|endoftext|>");
        boolean addBos = config.get("add_bos_token") instanceof Boolean b ? b : bos >= 0 && split == PreTokenizer.LLAMA3;
        boolean ignoreMerges = Boolean.TRUE.equals(model.get("ignore_merges"));
        try {
            return new ByteLevelBpeTokenizer(source, texts, types, merges, split, bos, eos, addBos, ignoreMerges);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    /** {@code model.merges} in rank order: "a b" strings (older files) or ["a", "b"] pairs (tokenizers 0.20 on). */
    static List<String[]> merges(Map<?, ?> model, String source) {
        List<?> mergeList = asList(model.get("merges"), source, "'model.merges'");
        List<String[]> merges = new ArrayList<>(mergeList.size());
        for (int i = 0; i < mergeList.size(); i++) {
            Object m = mergeList.get(i);
            String where = source + ": model.merges[" + i + "]";
            if (m instanceof String s) {
                merges.add(GgufTokenizerMetadata.splitMerge(s, where));
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String l && pair.get(1) instanceof String r) {
                merges.add(new String[] {l, r});
            } else {
                throw new ModelFormatException(where + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return merges;
    }

    private static Object parseJson(Path path) {
        try {
            return Json.parse(readText(path), path.toString());
        } catch (Json.JsonException e) {
            throw new ModelFormatException(e.getMessage(), e); // the message starts with the path and gives the offset
        }
    }

    private static String readText(Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new ModelFormatException(path + ": " + size + " bytes is too large for a tokenizer.json");
            }
            return Files.readString(path);
        } catch (IOException e) {
            throw new ModelFormatException(path + ": cannot read tokenizer.json: " + e.getMessage(), e);
        }
    }

    /**
     * Recognizes the pre-tokenizer: a Split with a known pattern (optionally in a Sequence followed by a
     * ByteLevel without regex), or a lone ByteLevel with use_regex (GPT-2's built-in pattern).
     */
    private static PreTokenizer preTokenizer(Object node, String source) {
        List<?> steps = node instanceof Map<?, ?> m && "Sequence".equals(m.get("type")) && m.get("pretokenizers") instanceof List<?> l
                ? l : node == null ? List.of() : List.of(node);
        PreTokenizer found = null;
        for (Object step : steps) {
            Map<?, ?> s = asMap(step, source, "a pre-tokenizer");
            String type = String.valueOf(s.get("type"));
            PreTokenizer here = switch (type) {
                case "Split" -> {
                    Object pattern = s.get("pattern") instanceof Map<?, ?> p ? p.get("Regex") : null;
                    if (!"Isolated".equals(s.get("behavior")) || Boolean.TRUE.equals(s.get("invert"))) {
                        throw new ModelFormatException(source + ": pre-tokenizer Split with behavior " + s.get("behavior")
                                + ", invert " + s.get("invert") + " is not supported (only Isolated, not inverted)");
                    }
                    yield Arrays.stream(PreTokenizer.values()).filter(p -> p.publishedPattern().equals(pattern)).findFirst()
                            .orElseThrow(() -> new ModelFormatException(source + ": pre-tokenizer split pattern " + pattern
                                    + " is not one of the supported ones (Llama 3, GPT-2)"));
                }
                case "ByteLevel" -> Boolean.FALSE.equals(s.get("use_regex")) ? null : PreTokenizer.GPT2;
                default -> throw new ModelFormatException(source + ": pre-tokenizer type '" + type + "' is not supported");
            };
            if (here != null) {
                if (found != null) {
                    throw new ModelFormatException(source + ": more than one regex split in pre_tokenizer; not supported");
                }
                found = here;
            }
        }
        if (found == null) {
            throw new ModelFormatException(source + ": no supported regex split in pre_tokenizer (need the Llama 3 Split or a ByteLevel with use_regex)");
        }
        return found;
    }

    static Map<?, ?> siblingConfig(Path tokenizerJson) {
        Path parent = tokenizerJson.toAbsolutePath().getParent();
        if (parent == null) {
            return Map.of();
        }
        String name = tokenizerJson.getFileName().toString();
        // "tokenizer.json" -> "tokenizer_config.json"; "llama3-tokenizer.json" -> "llama3-tokenizer_config.json"
        Path config = parent.resolve(name.endsWith(".json") ? name.substring(0, name.length() - 5) + "_config.json" : "tokenizer_config.json");
        if (!Files.isRegularFile(config)) {
            return Map.of();
        }
        return asMap(parseJson(config), config.toString(), "the document");
    }

    /** A config's bos_token/eos_token (a string or {"content": ...}) resolved to an id; else the first known name present. */
    static int specialId(Object configured, String[] texts, String source, String... usualNames) {
        Object text = configured instanceof Map<?, ?> m ? m.get("content") : configured;
        List<String> wanted = text instanceof String s ? List.of(s) : List.of(usualNames);
        for (String w : wanted) {
            for (int id = 0; id < texts.length; id++) {
                if (texts[id].equals(w)) {
                    return id;
                }
            }
        }
        if (text instanceof String s) {
            throw new ModelFormatException(source + ": tokenizer_config.json names special token '" + s + "', which is not in the vocabulary");
        }
        return -1;
    }

    private static void place(String[] texts, TokenType[] types, int id, String text, TokenType type, String source) {
        if (texts[id] != null) {
            throw new ModelFormatException(source + ": id " + id + " is used by both '" + texts[id] + "' and '" + text + "'");
        }
        texts[id] = text;
        types[id] = type;
    }

    static int checkedId(Object id, String source, String where) {
        if (id instanceof Long l && l >= 0 && l < 16_777_216) {
            return l.intValue();
        }
        throw new ModelFormatException(source + ": " + where + " has token id " + id + ", not an integer in 0..16777215");
    }

    /**
     * Ids are slots of arrays the tokenizer allocates and scans; a few KB of JSON must not declare millions of them.
     * Real files leave few gaps (Llama 3: none), so more unused slots than tokens, plus 1024, is refused.
     */
    static void checkIdSpace(int size, int tokens, String source) {
        if (size > 2L * tokens + 1024) {
            throw new ModelFormatException(source + ": token ids run up to " + (size - 1) + " for " + tokens
                    + " tokens; most of that id space would be unused (at most " + tokens + " + 1024 unused ids)");
        }
    }

    static Map<?, ?> asMap(Object o, String source, String what) {
        if (o instanceof Map<?, ?> m) {
            return m;
        }
        throw new ModelFormatException(source + ": " + what + " should be a JSON object but is " + (o == null ? "missing" : o.getClass().getSimpleName()));
    }

    static List<?> asList(Object o, String source, String what) {
        if (o instanceof List<?> l) {
            return l;
        }
        throw new ModelFormatException(source + ": " + what + " should be a JSON array but is " + (o == null ? "missing" : o.getClass().getSimpleName()));
    }
}
