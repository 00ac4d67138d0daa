package io.flexq.runtime.chat;

import java.util.List;

/** A base model: the last user message is a completion prompt after BOS; nothing else is kept. */
public record PlainCompletion() implements ChatTemplate {

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public List<PromptPart> render(List<Message> conversation) {
        for (int i = conversation.size() - 1; i >= 0; i--) {
            if (conversation.get(i).role() == Message.Role.USER) {
                return List.of(new PromptPart.Bos(), new PromptPart.Text(conversation.get(i).content()));
            }
        }
        throw new IllegalArgumentException("plain completion needs a user message");
    }

    @Override
    public List<String> stopTokens() {
        return List.of();
    }

    @Override
    public boolean keepsHistory() {
        return false;
    }
}
