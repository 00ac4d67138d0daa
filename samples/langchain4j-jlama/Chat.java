import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.jlama.JlamaChatModel;

import java.nio.file.Path;

/**
 * An ordinary langchain4j-jlama chat program: nothing of FlexQ in it. Run with
 * {@code -javaagent:flexq-jlama-...-agent.jar=a8} its model's linear layers are FQ6 on FlexQ.
 * Args: MODEL_CACHE_DIR OWNER/NAME MESSAGE (the model must already be in the cache: no download).
 */
public class Chat {
    public static void main(String[] args) {
        ChatModel model = JlamaChatModel.builder()
                .modelCachePath(Path.of(args[0]))
                .modelName(args[1])
                .temperature(0.0f)
                .maxTokens(48)
                .build();
        System.out.println(model.chat(args[2]));
    }
}
