package io.flexq.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex split a byte-level BPE applies before merging: merges never cross the boundaries it
 * finds. Patterns are the published ones, rewritten for java.util.regex:
 * <ul>
 * <li>{@code (?i:'s|...)} becomes explicit ASCII classes ('[sS]...), which is what llama.cpp's
 *     hand-written Llama 3 splitter does (it lower-cases with a simple mapping);</li>
 * <li>the pattern is compiled with UNICODE_CHARACTER_CLASS so {@code \s} is Unicode White_Space,
 *     as in the Rust and C++ engines, not just ASCII whitespace;</li>
 * <li>Java's engine is backtracking and leftmost-first like Oniguruma/fancy-regex, so
 *     {@code \s+(?!\S)} keeps one space back for the word that follows.</li>
 * </ul>
 */
public enum PreTokenizer {

    /** Llama 3 (tiktoken cl100k-style): letters with one leading non-letter, digits in groups of up to 3. */
    LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),

    /** GPT-2: the byte-level pre-tokenizer's built-in pattern (Hugging Face ByteLevel with use_regex). */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final String published;
    private final Pattern pattern;

    PreTokenizer(String published, String java) {
        this.published = published;
        this.pattern = Pattern.compile(java, Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** The pattern as tokenizer.json writes it (used to recognize a file's pre-tokenizer). */
    public String publishedPattern() {
        return published;
    }

    /** Splits text[start, end) into words; together they cover the text exactly. */
    List<String> split(String text, int start, int end) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text).region(start, end);
        int pos = start;
        while (m.find()) {
            if (m.start() > pos) {
                words.add(text.substring(pos, m.start())); // cannot happen with these patterns (\s+|... covers all); kept for safety
            }
            words.add(text.substring(m.start(), m.end()));
            pos = m.end();
        }
        if (pos < end) {
            words.add(text.substring(pos, end));
        }
        return words;
    }
}
