package io.flexq.samples.embed;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PlainCompletion;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.sample.Sampler;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.TokenStreamDecoder;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The runtime embedded in a program: load a model, chat, stream the reply token by token. The FlexQ plugin is on
 * the class path (a dependency of this module), so its FQ6 tensor type and its backends are found through
 * {@link java.util.ServiceLoader} with no code naming them: give it an FQ6 file and the "backends:" line shows
 * flexq-cpu (or flexq-cuda) holding the matrices.
 *
 * <pre>
 *   EmbedChat [MODEL [TOKENIZER]]     (default: the bundled models/stories260K.bin with models/tok512.bin)
 * </pre>
 * Each line on stdin is a user message; the reply streams to stdout.
 */
public final class EmbedChat {

    private EmbedChat() {
    }

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args.length > 0 ? args[0] : "models/stories260K.bin");
        Path tokenizerFile = args.length > 1 ? Path.of(args[1]) : args.length == 0 ? Path.of("models/tok512.bin") : null;
        ClassLoader loader = EmbedChat.class.getClassLoader();

        // 1. load: the file (tensor types from every plugin), its tokenizer, the weights on the best backend
        try (ModelFile file = ModelFiles.open(model, BuiltinTypes.registry(loader))) {
            Tokenizer tokenizer = tokenizerFile == null ? Tokenizers.fromMetadata(file.metadata())
                    : tokenizerFile.toString().endsWith(".json") ? Tokenizers.fromTokenizerJson(tokenizerFile)
                    : Tokenizers.fromLlama2c(tokenizerFile);
            Backends backends = Backends.discover(loader, line -> { });
            try (Llama llama = Llama.load(file, backends, List.of(), line -> { })) {
                System.err.println(backends.summary());
                ChatTemplate template = ChatTemplate.fromMetadata(file.metadata()).orElse(new PlainCompletion());
                Sampler sampler = Sampler.of(0.8, 0.9, 42);

                // 2. chat: the conversation so far goes through the model's template on every turn
                List<Message> conversation = new ArrayList<>();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                System.err.print("> ");
                for (String line; (line = in.readLine()) != null; System.err.print("> ")) {
                    conversation.add(Message.user(line));
                    // 3. stream: each piece is printed as soon as its token is sampled
                    String reply = reply(llama, tokenizer, template, conversation, 200, sampler, piece -> {
                        System.out.print(piece);
                        System.out.flush();
                    });
                    System.out.println();
                    if (template.keepsHistory()) {
                        conversation.add(Message.assistant(reply));
                    } else {
                        conversation.clear(); // a base model: every line is a fresh prompt
                    }
                }
            }
        }
    }

    /**
     * The model's reply to the conversation: at most {@code maxTokens} tokens (fewer if the context is shorter),
     * each decoded piece handed to {@code onText} as it comes; returns the whole reply.
     */
    public static String reply(Llama llama, Tokenizer tokenizer, ChatTemplate template, List<Message> conversation,
                               int maxTokens, Sampler sampler, Consumer<String> onText) {
        int[] prompt = PromptEncoder.encode(template.render(conversation), tokenizer, template.name());
        int ctx = llama.config().contextLength();
        StringBuilder reply = new StringBuilder();
        TokenStreamDecoder decoder = tokenizer.decoder();
        decoder.accept(prompt[prompt.length - 1]); // the first piece decodes in context (its leading space)
        try (LlamaSession session = llama.newSession(ctx)) {
            Generator.generate(session, prompt, Math.min(maxTokens, ctx - prompt.length), sampler,
                    PromptEncoder.endOfReply(template, tokenizer), token -> {
                        String piece = decoder.accept(token);
                        reply.append(piece);
                        onText.accept(piece);
                    });
        }
        String rest = decoder.flush();
        reply.append(rest);
        onText.accept(rest);
        return reply.toString();
    }
}
