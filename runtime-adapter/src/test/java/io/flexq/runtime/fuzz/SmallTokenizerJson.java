package io.flexq.runtime.fuzz;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A fuzz seed cut from the Llama 3 tokenizer.json in ../shared (9 MB, too big to parse thousands of times): the
 * first {@value #IDS} ids (the 256 byte tokens among them) and the merges among them, everything else as it is.
 */
final class SmallTokenizerJson {

    static final int IDS = 600;

    private SmallTokenizerJson() {
    }

    @SuppressWarnings("unchecked")
    static byte[] bytes() {
        Map<String, Object> root;
        try {
            root = (Map<String, Object>) Json.parse(Files.readString(SharedData.require("data/tokenizer-tests/llama3-tokenizer.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> model = new LinkedHashMap<>((Map<String, Object>) root.get("model"));
        Map<String, Object> vocab = new LinkedHashMap<>();
        ((Map<String, Object>) model.get("vocab")).forEach((k, v) -> {
            if (((Number) v).intValue() < IDS) vocab.put(k, v);
        });
        Set<String> kept = vocab.keySet();
        List<Object> merges = ((List<Object>) model.get("merges")).stream().filter(m -> {
            String[] p = m instanceof String s ? s.split(" ", 2) : ((List<Object>) m).toArray(String[]::new);
            return p.length == 2 && kept.contains(p[0]) && kept.contains(p[1]) && kept.contains(p[0] + p[1]);
        }).toList();
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> out = new LinkedHashMap<>(root);
        out.put("model", model);
        out.put("added_tokens", List.of());
        StringBuilder sb = new StringBuilder();
        write(out, sb);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void write(Object v, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> {
                sb.append('"');
                s.chars().forEach(c -> {
                    if (c == '"' || c == '\\') sb.append('\\').append((char) c);
                    else if (c < 0x20) sb.append(String.format("\\u%04x", c));
                    else sb.append((char) c);
                });
                sb.append('"');
            }
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    write(String.valueOf(e.getKey()), sb);
                    sb.append(':');
                    write(e.getValue(), sb);
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(',');
                    write(l.get(i), sb);
                }
                sb.append(']');
            }
            default -> sb.append(v);
        }
    }
}
