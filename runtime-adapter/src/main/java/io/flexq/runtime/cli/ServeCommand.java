package io.flexq.runtime.cli;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.serve.OpenAiServer;
import io.flexq.runtime.serve.ServedModel;
import io.flexq.runtime.serve.ServerOptions;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code flexq serve}: the model behind an OpenAI-compatible HTTP API ({@link OpenAiServer}) until the process is
 * stopped. What the command adds to the library is only the flags: the model and tokenizer are opened as generate
 * and chat open them ({@link LoadedModel}), the template is chosen as chat chooses it.
 */
final class ServeCommand {

    static final Map<String, Flags.Kind> FLAGS = Map.ofEntries(
            Map.entry("model", Flags.Kind.TEXT),
            Map.entry("tokenizer", Flags.Kind.TEXT),
            Map.entry("ctx", Flags.Kind.INT),
            Map.entry("template", Flags.Kind.TEXT),
            Map.entry("host", Flags.Kind.TEXT),
            Map.entry("port", Flags.Kind.INT),
            Map.entry("max-queued", Flags.Kind.INT),
            Map.entry("verbose", Flags.Kind.SWITCH),
            Map.entry("help", Flags.Kind.SWITCH));

    static final String SUMMARY = "serve the model over an OpenAI-compatible HTTP API (chat/completions, completions, models)";

    static final String HELP = """
            usage: flexq serve [--model PATH] [--host HOST] [--port N] [flags]
            Serves the model at http://HOST:PORT/v1 for OpenAI clients: POST /v1/chat/completions, POST /v1/completions
            (both with stream: true as server-sent events), GET /v1/models. Requests are answered one at a time in
            arrival order, each with its own KV cache; temperature, top_p, max_tokens, seed and stop are per request.
            Each request's outcome is logged on stderr. Ctrl-C stops.
              --model PATH        GGUF file, llama2.c .bin, or HF safetensors folder (default: bundled stories260K.bin)
              --tokenizer PATH    llama2.c tokenizer.bin or tokenizer.json (default: as for generate)
              --host HOST         address to listen on (default %s; 0.0.0.0 listens on every interface)
              --port N            TCP port (default %d; 0 picks a free one)
              --ctx N             context per request, prompt + max_tokens (default: the model's llama.context_length)
              --template NAME     chat format: llama2, llama3 or plain (default: from the model's chat template)
              --max-queued N      requests that may wait behind the running one before 503 (default %d)
              --verbose           diagnostics and stack traces on stderr
            """.formatted(ServerOptions.DEFAULT_HOST, ServerOptions.DEFAULT_PORT, ServerOptions.DEFAULT_MAX_QUEUED);

    private ServeCommand() {
    }

    static int run(Flags f, PrintStream out, PrintStream err, Consumer<String> log) {
        return run(f, out, err, log, server -> { });
    }

    /** As {@link #run(Flags, PrintStream, PrintStream, Consumer)}; {@code started} gets the server once it listens (tests stop it). */
    static int run(Flags f, PrintStream out, PrintStream err, Consumer<String> log, Consumer<OpenAiServer> started) {
        if (f.has("help")) {
            out.print(HELP);
            return 0;
        }
        String host = f.text("host").orElse(ServerOptions.DEFAULT_HOST);
        int port = f.integer("port", 0).orElse(ServerOptions.DEFAULT_PORT);
        if (port > 65535) {
            throw new UsageException("--port must be at most 65535, got " + port);
        }
        int maxQueued = f.integer("max-queued", 1).orElse(ServerOptions.DEFAULT_MAX_QUEUED);
        try (LoadedModel m = LoadedModel.open(f, log)) {
            int ctx = Settings.context(f, m.llama().config().contextLength());
            ChatTemplate template = Settings.chatTemplate(f, m.file().metadata());
            ServedModel model = new ServedModel(modelId(m.file().path()), m.llama(), m.tokenizer(), template, ctx);
            // an address in use is reported as it is ("cannot listen on HOST:PORT: ..."), exit status 1
            try (OpenAiServer server = OpenAiServer.start(model, new ServerOptions(host, port, maxQueued, err::println))) {
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
