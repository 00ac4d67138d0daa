package io.flexq.runtime.cli;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.sample.Sampler;
import io.flexq.runtime.tokenizer.TokenStreamDecoder;
import io.flexq.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code flexq chat}: a REPL on stdin. With a chat template the conversation is kept and each reply continues it
 * (the KV cache of the tokens the new prompt shares with the last one is reused); with a base model (plain
 * completion) each line is a fresh completion prompt, and an empty line starts from BOS alone.
 */
final class ChatCommand {

    static CommandSpec spec(Cli cli) {
        List<OptionSpec> options = new ArrayList<>();
        options.add(CommandSpecs.value("system", "TEXT", "system prompt (chat templates only)"));
        options.addAll(Settings.common());
        return CommandSpecs.command("chat", "", "interactive chat on stdin (base models: each line is a completion prompt)",
                """
                Reads lines from stdin and prints the model's replies on stdout. /reset forgets the conversation;
                Ctrl-D (end of input) or /quit ends. With a base model (no chat template) each line is a completion
                prompt, and an empty line starts from BOS alone. Without --model it uses the bundled stories260K model.
                """, options, false, parsed -> run(Flags.of(parsed), cli.in(), cli.out(), cli.err(), cli));
    }

    private ChatCommand() {
    }

    static int run(Flags f, InputStream in, PrintStream out, PrintStream err, Cli cli) {
        Consumer<String> log = cli.diagnostics();
        Sampler sampler = Settings.sampler(f, log);
        try (LoadedModel m = LoadedModel.open(f, log)) {
            int trained = m.llama().config().contextLength();
            int ctx = Settings.context(f, trained);
            ChatTemplate template = Settings.chatTemplate(f, m.file().metadata());
            Tokenizer tok = m.tokenizer();
            Set<Integer> stops = PromptEncoder.endOfReply(template, tok);
            List<Message> history = new ArrayList<>();
            String system = f.text("system").orElse(null);
            if (system != null && !template.keepsHistory()) {
                cli.warning("--system is ignored by the plain completion template");
                system = null;
            }
            err.println("chat with " + m.file().path().getFileName() + " (template " + template.name() + ", context " + ctx
                    + "); Ctrl-D or /quit to end" + (template.keepsHistory() ? ", /reset to start over" : ", an empty line starts from BOS"));
            try (LlamaSession session = m.llama().newSession(ctx);
                 BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                int[] cached = new int[0];
                while (true) {
                    err.print("> ");
                    err.flush();
                    String line = reader.readLine();
                    if (line == null || line.strip().equals("/quit")) {
                        break;
                    }
                    if (line.strip().equals("/reset")) {
                        history.clear();
                        continue;
                    }
                    if (line.isBlank() && template.keepsHistory()) {
                        continue;
                    }
                    if (history.isEmpty() && system != null) {
                        history.add(Message.system(system));
                    }
                    history.add(Message.user(line));
                    int[] ids = fit(template, history, tok, ctx, err);
                    if (ids == null) {
                        history.removeLast();
                        continue;
                    }
                    int common = Math.min(commonPrefix(cached, ids, session.position()), ids.length - 1);
                    session.rewind(common);
                    int budget = Math.min(f.integer("max-tokens", 0).orElse(Settings.DEFAULT_MAX_TOKENS), ctx - ids.length);
                    TokenStreamDecoder decoder = tok.decoder();
                    decoder.accept(ids[ids.length - 1]);
                    StringBuilder reply = new StringBuilder();
                    Generator.Result r = Generator.generate(session, Arrays.copyOfRange(ids, common, ids.length), budget, sampler, stops,
                            token -> {
                                String piece = decoder.accept(token);
                                reply.append(piece);
                                out.print(piece);
                                out.flush();
                            });
                    String rest = decoder.flush();
                    reply.append(rest);
                    out.println(rest);
                    out.flush();
                    if (r.stop() == Generator.Stop.MAX_TOKENS && ids.length + r.tokens().length >= ctx) {
                        err.println("[the context of " + ctx + " tokens is full]");
                    }
                    cached = Arrays.copyOf(ids, ids.length + r.tokens().length);
                    System.arraycopy(r.tokens(), 0, cached, ids.length, r.tokens().length);
                    if (template.keepsHistory()) {
                        history.add(Message.assistant(reply.toString()));
                    } else {
                        history.clear();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading stdin: " + e.getMessage(), e);
            }
            cli.info(m.backends().summary());
            return 0;
        }
    }

    /**
     * The prompt for the conversation, dropping the oldest exchanges (never the system prompt or the new message)
     * until it leaves room for at least one reply token; null (with a message) if the new message alone is too long.
     */
    private static int[] fit(ChatTemplate template, List<Message> history, Tokenizer tok, int ctx, PrintStream err) {
        while (true) {
            int[] ids = PromptEncoder.encode(template.render(history), tok, template.name());
            if (ids.length < ctx) {
                return ids;
            }
            int first = !history.isEmpty() && history.getFirst().role() == Message.Role.SYSTEM ? 1 : 0;
            if (history.size() - first <= 1) {
                err.println("that message is " + ids.length + " tokens with the template; the context holds " + ctx
                        + " (raise --ctx)");
                return null;
            }
            err.println("[the conversation no longer fits in " + ctx + " tokens: forgetting the oldest exchange]");
            history.remove(first);                      // user
            if (history.size() - first > 1) {
                history.remove(first);                  // its reply
            }
        }
    }

    /** Length of the common prefix of the cached tokens (only the first {@code cachedValid} are in the KV cache) and ids. */
    private static int commonPrefix(int[] cached, int[] ids, int cachedValid) {
        int n = Math.min(Math.min(cached.length, cachedValid), ids.length);
        int i = 0;
        while (i < n && cached[i] == ids[i]) {
            i++;
        }
        return i;
    }
}
