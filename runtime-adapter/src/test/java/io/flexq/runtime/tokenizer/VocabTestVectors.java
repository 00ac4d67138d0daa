package io.flexq.runtime.tokenizer;

import io.flexq.runtime.model.SharedData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors (shared/data/tokenizer-tests): {@code NAME.inp} holds strings
 * each followed by a line "__ggml_vocab_test__"; {@code NAME.out} holds, per string, one line of
 * space-separated ids (no BOS), as llama.cpp's test-tokenizer-0 wrote them.
 */
record VocabTestVectors(List<String> inputs, List<int[]> expected) {

    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static VocabTestVectors load(String name) {
        try {
            String inp = Files.readString(SharedData.require("data/tokenizer-tests/" + name + ".inp"), StandardCharsets.UTF_8);
            List<String> out = Files.readAllLines(SharedData.require("data/tokenizer-tests/" + name + ".out"), StandardCharsets.UTF_8);
            List<String> inputs = new ArrayList<>();
            int pos = 0;
            int sep;
            while ((sep = inp.indexOf(SEPARATOR, pos)) >= 0) {
                inputs.add(inp.substring(pos, sep));
                pos = sep + SEPARATOR.length();
            }
            if (pos != inp.length()) {
                throw new IllegalStateException(name + ".inp: text after the last separator");
            }
            List<int[]> ids = out.stream()
                    .map(line -> line.isBlank() ? new int[0] : Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray())
                    .toList();
            if (ids.size() != inputs.size()) {
                throw new IllegalStateException(name + ": " + inputs.size() + " inputs but " + ids.size() + " output lines");
            }
            return new VocabTestVectors(inputs, ids);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String show(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> b.append(c >= 0x20 && c < 0x7F ? Character.toString(c) : String.format("\\u{%X}", c)));
        return b.toString();
    }
}
