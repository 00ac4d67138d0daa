package io.flexq.runtime.cli;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.serve.OpenAiServer;
import io.flexq.runtime.serve.ServedModel;
import io.flexq.runtime.serve.ServerOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code flexq serve}: the model behind an OpenAI-compatible HTTP API ({@link OpenAiServer}) until the process is
 * stopped. What the command adds to the library is only the flags: the model and tokenizer are opened as generate
 * and chat open them ({@link LoadedModel}), the template is chosen as chat chooses it. Each request's outcome is an
 * INFO line (hidden by --quiet).
 */
final class ServeCommand {

    static CommandSpec spec(Cli cli) {
        List<OptionSpec> options = List.of(
                CommandSpecs.value("model", "PATH", "GGUF file, llama2.c .bin, or HF safetensors folder (default: bundled stories260K.bin)"),
                CommandSpecs.value("tokenizer", "PATH", "llama2.c tokenizer.bin or tokenizer.json (default: as for generate)"),
                DeviceOption.option(),
                KvCacheOption.option(),
                CommandSpecs.value("host", "HOST", "address to listen on (default " + ServerOptions.DEFAULT_HOST + "; 0.0.0.0 listens on every interface)"),
                CommandSpecs.value("port", "N", "TCP port (default " + ServerOptions.DEFAULT_PORT + "; 0 picks a free one)"),
                CommandSpecs.value("ctx", "N", "context per request, prompt + max_tokens (default: the model's llama.context_length)"),
                CommandSpecs.value("template", "NAME", "chat format: llama2, llama3 or plain (default: from the model's chat template)"),
                CommandSpecs.value("max-queued", "N", "requests that may wait behind the running one before 503 (default " + ServerOptions.DEFAULT_MAX_QUEUED + ")"));
        return CommandSpecs.command("serve", "", SUMMARY, DETAILS, options, false,
                parsed -> run(Flags.of(parsed), cli.diagnostics(), cli::info, server -> { }));
    }

    static final String SUMMARY = "serve the model over an OpenAI-compatible HTTP API (chat/completions, completions, models)";

    static final String DETAILS = """
            Serves the model at http://HOST:PORT/v1 for OpenAI clients: POST /v1/chat/completions, POST /v1/completions
            (both with stream: true as server-sent events), GET /v1/models. Requests are answered one at a time in
            arrival order, each with its own KV cache; temperature, top_p, max_tokens, seed and stop are per request.
            Each request's outcome is logged on stderr. Ctrl-C stops. See docs/SERVE.md.
            """;

    private ServeCommand() {
    }

    /**
     * Serves until the server is closed (Ctrl-C, or a test through {@code started}).
     *
     * @param log        diagnostics while loading
     * @param requestLog one line per request outcome, and the server's start and stop
     */
    static int run(Flags f, Consumer<String> log, Consumer<String> requestLog, Consumer<OpenAiServer> started) {
        String host = f.text("host").orElse(ServerOptions.DEFAULT_HOST);
        int port = f.integer("port", 0, 65535).orElse(ServerOptions.DEFAULT_PORT);
        int maxQueued = f.integer("max-queued", 1).orElse(ServerOptions.DEFAULT_MAX_QUEUED);
        try (LoadedModel m = LoadedModel.open(f, log)) {
            int ctx = Settings.context(f, m.llama().config().contextLength());
            ChatTemplate template = Settings.chatTemplate(f, m.file().metadata());
            ServedModel model = new ServedModel(modelId(m.file().path()), m.llama(), m.tokenizer(), template, ctx);
            requestLog.accept(m.backends().summary());
            // an address in use is reported as it is ("cannot listen on HOST:PORT: ..."), exit status 1
            try (OpenAiServer server = OpenAiServer.start(model, new ServerOptions(host, port, maxQueued, requestLog))) {
                Thread hook = new Thread(server::close, "flexq-serve-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                started.accept(server);
                server.awaitClose();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down (Ctrl-C): the hook is what closed the server
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    /**
     * The name clients see in GET /v1/models and in each response: the model file's name without a model-file
     * extension (a folder's name as it is: "Llama-3.2-1B" keeps its dots).
     */
    static String modelId(Path model) {
        String name = model.toAbsolutePath().normalize().getFileName().toString();
        return name.replaceFirst("(?i)\\.(gguf|bin|safetensors)$", "");
    }
}
