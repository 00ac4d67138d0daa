package io.flexq.runtime.cli;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.llama.ContextLengthException;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.sample.Sampler;
import picocli.CommandLine.Model.OptionSpec;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** Flags shared by generate and chat, and what they resolve to once the model is known. */
final class Settings {

    static final int DEFAULT_MAX_TOKENS = 256;
    static final double DEFAULT_TEMPERATURE = 1.0;
    static final double DEFAULT_TOP_P = 0.9;

    /** The flags of generate and chat (new objects each time: an option belongs to one command). */
    static List<OptionSpec> common() {
        return List.of(
                CommandSpecs.value("model", "PATH", "GGUF file, llama2.c .bin, or HF safetensors folder (default: bundled stories260K.bin)"),
                CommandSpecs.value("tokenizer", "PATH", "llama2.c tokenizer.bin or tokenizer.json (default: tok512.bin with the default"
                        + " model, else the vocabulary inside the model file, else a tokenizer file beside it)"),
                DeviceOption.option(),
                KvCacheOption.option(),
                CommandSpecs.value("max-tokens", "N", "most tokens to generate (default: " + DEFAULT_MAX_TOKENS + ", or what is left of the context)"),
                CommandSpecs.value("temperature", "T", "0 = greedy (default " + DEFAULT_TEMPERATURE + ")"),
                CommandSpecs.value("top-p", "P", "nucleus sampling mass in (0, 1] (default " + DEFAULT_TOP_P + ")"),
                CommandSpecs.value("seed", "S", "random seed; the same seed gives the same text (default: time-based)"),
                CommandSpecs.value("ctx", "N", "context length (default: the model's llama.context_length; longer is allowed with a warning)"),
                CommandSpecs.value("template", "NAME", "chat format: llama2, llama3 or plain (default: from the model's chat template)"));
    }

    private Settings() {
    }

    static Sampler sampler(Flags f, Consumer<String> log) {
        double temperature = f.number("temperature", 0, 100).orElse(DEFAULT_TEMPERATURE);
        double topP = f.number("top-p", 0, 1).orElse(DEFAULT_TOP_P);
        if (topP == 0) {
            throw new UsageException("--top-p must be greater than 0 (1 disables it)");
        }
        long seed = f.longValue("seed").orElseGet(System::nanoTime);
        log.accept("sampling: temperature " + temperature + ", top-p " + topP + ", seed " + seed);
        return Sampler.of(temperature, topP, seed);
    }

    /** --ctx, or the context the model was trained for. */
    static int context(Flags f, int trained) {
        return f.integer("ctx", 1).orElse(trained);
    }

    /** --template if given. */
    static Optional<ChatTemplate> template(Flags f) {
        return f.text("template").map(name -> {
            try {
                return ChatTemplate.named(name);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--template: " + e.getMessage());
            }
        });
    }

    /**
     * How many tokens to generate after a prompt of {@code promptTokens} in a context of {@code ctx}: --max-tokens if
     * it fits (refused with a message otherwise), else the default capped by what is left.
     */
    static int maxTokens(Flags f, int promptTokens, int ctx, int trained) {
        int left = ctx - promptTokens;
        Optional<Integer> asked = f.integer("max-tokens", 0);
        if (asked.isPresent()) {
            if (asked.get() > left) {
                throw new ContextLengthException("prompt (" + promptTokens + " tokens) + --max-tokens " + asked.get() + " = "
                        + (promptTokens + asked.get()) + " exceeds the context of " + ctx + " tokens"
                        + (ctx == trained ? " (the model's llama.context_length)" : " (--ctx)")
                        + "; lower --max-tokens, or raise --ctx (past " + trained + " the model is outside its training)");
            }
            return asked.get();
        }
        if (left <= 0) {
            throw new ContextLengthException("the prompt (" + promptTokens + " tokens) fills the context of " + ctx + " tokens; shorten it or raise --ctx");
        }
        return Math.min(DEFAULT_MAX_TOKENS, left);
    }

    /** --template if given, else the template the model's metadata asks for (chat, serve). */
    static ChatTemplate chatTemplate(Flags f, Metadata metadata) {
        return template(f).orElseGet(() -> ChatTemplate.fromMetadata(metadata)
                .orElseThrow(() -> new UsageException("the model's tokenizer.chat_template is not a format this runtime knows;"
                        + " pass --template llama2, llama3 or plain")));
    }
}
