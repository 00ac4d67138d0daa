package io.flexq.runtime.chat;

import io.flexq.runtime.model.Metadata;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rendered prompts against the formats Meta documents for Llama 2 chat and Llama 3 instruct. */
class ChatTemplateTest {

    /** Flattens parts to one string, control tokens in double braces so text can't pass for them. */
    static String flat(List<PromptPart> parts) {
        StringBuilder sb = new StringBuilder();
        for (PromptPart p : parts) {
            switch (p) {
                case PromptPart.Bos b -> sb.append("{{BOS}}");
                case PromptPart.Eos e -> sb.append("{{EOS}}");
                case PromptPart.Special s -> sb.append("{{").append(s.token()).append("}}");
                case PromptPart.Text t -> sb.append(t.text());
            }
        }
        return sb.toString();
    }

    static final List<Message> CONVERSATION = List.of(
            Message.system("Be brief."),
            Message.user(" Hi! "),
            Message.assistant("Hello."),
            Message.user("Name a color."));

    @Test
    void llama2LaysOutInstBlocksWithTheSystemPromptInTheFirst() {
        assertEquals("{{BOS}}[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. {{EOS}}{{BOS}}[INST] Name a color. [/INST]",
                flat(new Llama2Chat().render(CONVERSATION)));
        assertEquals("{{BOS}}[INST] Hi [/INST]", flat(new Llama2Chat().render(List.of(Message.user("Hi")))));
    }

    @Test
    void llama3UsesHeadersAndEotIds() {
        assertEquals("{{BOS}}"
                        + "{{<|start_header_id|>}}system{{<|end_header_id|>}}\n\nBe brief.{{<|eot_id|>}}"
                        + "{{<|start_header_id|>}}user{{<|end_header_id|>}}\n\nHi!{{<|eot_id|>}}"
                        + "{{<|start_header_id|>}}assistant{{<|end_header_id|>}}\n\nHello.{{<|eot_id|>}}"
                        + "{{<|start_header_id|>}}user{{<|end_header_id|>}}\n\nName a color.{{<|eot_id|>}}"
                        + "{{<|start_header_id|>}}assistant{{<|end_header_id|>}}\n\n",
                flat(new Llama3Chat().render(CONVERSATION)));
        assertTrue(new Llama3Chat().stopTokens().contains("<|eot_id|>"));
    }

    @Test
    void plainCompletionIsBosAndTheLastUserLine() {
        assertEquals("{{BOS}}Once upon a time", flat(new PlainCompletion().render(
                List.of(Message.user("ignored"), Message.user("Once upon a time")))));
    }

    @Test
    void theTemplateFollowsTheModelsChatTemplate() {
        String llama3Jinja = "{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] }}<|eot_id|>{% endfor %}";
        String llama2Jinja = "{% if messages[0]['role'] == 'system' %}...{{ bos_token + '[INST] ' + content + ' [/INST]' }}";
        assertEquals("llama3", ChatTemplate.fromMetadata(new Metadata("m", Map.of("tokenizer.chat_template", llama3Jinja))).orElseThrow().name());
        assertEquals("llama2", ChatTemplate.fromMetadata(new Metadata("m", Map.of("tokenizer.chat_template", llama2Jinja))).orElseThrow().name());
        assertEquals("plain", ChatTemplate.fromMetadata(new Metadata("m", Map.of())).orElseThrow().name());
        assertTrue(ChatTemplate.fromMetadata(new Metadata("m", Map.of("tokenizer.chat_template", "<|im_start|>"))).isEmpty());
    }

    @Test
    void namesAndBadConversations() {
        assertEquals("llama3", ChatTemplate.named("Llama3").name());
        var e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.named("chatml"));
        assertTrue(e.getMessage().contains("chatml"));
        assertThrows(IllegalArgumentException.class, () -> new Llama2Chat().render(List.of(Message.assistant("x"))));
    }
}
