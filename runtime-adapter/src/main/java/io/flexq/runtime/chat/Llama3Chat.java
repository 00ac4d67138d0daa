package io.flexq.runtime.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Llama 3 instruct: one BOS (&lt;|begin_of_text|&gt;), then per message a header and the stripped content ended by
 * &lt;|eot_id|&gt;, then an open assistant header:
 * <pre>
 *   &lt;|begin_of_text|&gt;&lt;|start_header_id|&gt;system&lt;|end_header_id|&gt;\n\n{system}&lt;|eot_id|&gt;
 *   &lt;|start_header_id|&gt;user&lt;|end_header_id|&gt;\n\n{user}&lt;|eot_id|&gt;&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n
 * </pre>
 */
public record Llama3Chat() implements ChatTemplate {

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public List<PromptPart> render(List<Message> conversation) {
        List<PromptPart> parts = new ArrayList<>();
        parts.add(new PromptPart.Bos());
        for (Message m : conversation) {
            header(parts, m.role().name().toLowerCase(Locale.ROOT));
            parts.add(new PromptPart.Text("\n\n" + m.content().strip()));
            parts.add(new PromptPart.Special("<|eot_id|>"));
        }
        header(parts, "assistant");
        parts.add(new PromptPart.Text("\n\n"));
        return parts;
    }

    private static void header(List<PromptPart> parts, String role) {
        parts.add(new PromptPart.Special("<|start_header_id|>"));
        parts.add(new PromptPart.Text(role));
        parts.add(new PromptPart.Special("<|end_header_id|>"));
    }

    @Override
    public List<String> stopTokens() {
        return List.of("<|eot_id|>", "<|end_of_text|>");
    }
}
