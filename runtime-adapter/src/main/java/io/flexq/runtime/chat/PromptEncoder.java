package io.flexq.runtime.chat;

import io.flexq.runtime.tokenizer.Tokenizer;

import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/** Turns rendered prompt parts into token ids: text encoded as plain text (no special-token parsing), control tokens looked up. */
public final class PromptEncoder {

    private PromptEncoder() {
    }

    public static int[] encode(List<PromptPart> parts, Tokenizer tokenizer, String templateName) {
        IntStream.Builder ids = IntStream.builder();
        for (PromptPart p : parts) {
            switch (p) {
                case PromptPart.Bos b -> {
                    if (tokenizer.bos() >= 0) {
                        ids.add(tokenizer.bos());
                    }
                }
                case PromptPart.Eos e -> ids.add(require(tokenizer.eos() >= 0 ? OptionalInt.of(tokenizer.eos()) : OptionalInt.empty(),
                        "an end-of-sequence token", tokenizer, templateName));
                case PromptPart.Special s -> ids.add(require(tokenizer.specialToken(s.token()), "the token " + s.token(), tokenizer, templateName));
                case PromptPart.Text t -> {
                    for (int id : tokenizer.encode(t.text(), false)) {
                        ids.add(id);
                    }
                }
            }
        }
        return ids.build().toArray();
    }

    /** The ids of a template's stop tokens that the vocabulary has, plus EOS. */
    public static java.util.Set<Integer> stopTokens(ChatTemplate template, Tokenizer tokenizer) {
        java.util.Set<Integer> stops = new java.util.HashSet<>();
        if (tokenizer.eos() >= 0) {
            stops.add(tokenizer.eos());
        }
        for (String s : template.stopTokens()) {
            tokenizer.specialToken(s).ifPresent(stops::add);
        }
        return stops;
    }

    /**
     * The tokens that end a reply: {@link #stopTokens}, and for a base model (plain completion) also BOS, since a
     * base model that starts a new document has finished the text.
     */
    public static java.util.Set<Integer> endOfReply(ChatTemplate template, Tokenizer tokenizer) {
        java.util.Set<Integer> stops = stopTokens(template, tokenizer);
        if (template instanceof PlainCompletion && tokenizer.bos() >= 0) {
            stops.add(tokenizer.bos());
        }
        return stops;
    }

    private static int require(OptionalInt id, String what, Tokenizer tokenizer, String templateName) {
        return id.orElseThrow(() -> new IllegalArgumentException("chat template " + templateName + " needs " + what
                + " but the vocabulary of " + tokenizer.source() + " has none; choose another with --template"));
    }
}
