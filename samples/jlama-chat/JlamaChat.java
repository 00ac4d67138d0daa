import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import io.flexq.jlama.FlexqJlama;
import io.flexq.jlama.Mode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A Jlama chat on an FQ6 model, through FlexQ's library call: {@code JlamaChat MODEL_DIR [a8|a6|a16|auto]}.
 * The model object is Jlama's own; only the load line is FlexQ's. Reads one message per line from stdin,
 * streams each reply; the conversation keeps its KV cache (one session).
 */
public class JlamaChat {
    public static void main(String[] args) throws Exception {
        AbstractModel model = FlexqJlama.load(Path.of(args[0]), args.length > 1 ? Mode.parse(args[1]) : Mode.A8);
        UUID session = UUID.randomUUID();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        System.out.print("> ");
        System.out.flush();
        for (String line; (line = in.readLine()) != null && !line.isBlank(); ) {
            PromptContext prompt = model.promptSupport().isPresent()
                    ? model.promptSupport().get().builder().addUserMessage(line).build()
                    : PromptContext.of(line);
            var r = model.generate(session, prompt, 0.0f, 48, (token, time) -> {
                System.out.print(token);
                System.out.flush();
            });
            System.out.printf("%n[%d prompt + %d generated tokens, %.0f ms]%n> ", r.promptTokens, r.generatedTokens, (double) r.generateTimeMs);
            System.out.flush();
        }
    }
}
