package io.flexq.runtime.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama 2 chat, as Meta's reference code lays it out: each (user, assistant) exchange is its own BOS ... EOS
 * sequence, the system prompt goes inside the first user turn, contents are stripped:
 * <pre>
 *   &lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n{user} [/INST] {assistant} &lt;/s&gt;&lt;s&gt;[INST] {user} [/INST]
 * </pre>
 */
public record Llama2Chat() implements ChatTemplate {

    @Override
    public String name() {
        return "llama2";
    }

    @Override
    public List<PromptPart> render(List<Message> conversation) {
        String system = null;
        List<Message> turns = new ArrayList<>();
        for (Message m : conversation) {
            if (m.role() == Message.Role.SYSTEM) {
                if (!turns.isEmpty() || system != null) {
                    throw new IllegalArgumentException("llama2 template: a system message may only come first");
                }
                system = m.content().strip();
            } else {
                turns.add(m);
            }
        }
        List<PromptPart> parts = new ArrayList<>();
        for (int i = 0; i < turns.size(); i += 2) {
            Message user = turns.get(i);
            if (user.role() != Message.Role.USER || (i + 1 < turns.size() && turns.get(i + 1).role() != Message.Role.ASSISTANT)) {
                throw new IllegalArgumentException("llama2 template: turns must alternate user, assistant, ... starting with user");
            }
            String content = user.content().strip();
            if (i == 0 && system != null) {
                content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
            }
            parts.add(new PromptPart.Bos());
            if (i + 1 < turns.size()) {
                parts.add(new PromptPart.Text("[INST] " + content + " [/INST] " + turns.get(i + 1).content().strip() + " "));
                parts.add(new PromptPart.Eos());
            } else {
                parts.add(new PromptPart.Text("[INST] " + content + " [/INST]"));
            }
        }
        if (turns.isEmpty() || turns.getLast().role() != Message.Role.USER) {
            throw new IllegalArgumentException("llama2 template: the conversation must end with a user message");
        }
        return parts;
    }

    @Override
    public List<String> stopTokens() {
        return List.of();
    }
}
