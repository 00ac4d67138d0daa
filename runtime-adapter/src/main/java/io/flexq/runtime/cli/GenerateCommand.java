package io.flexq.runtime.cli;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PlainCompletion;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.llama.Generator;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.sample.Sampler;
import io.flexq.runtime.tokenizer.TokenStreamDecoder;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/** {@code flexq generate}: one prompt in, only the generated text out (stdout); diagnostics on stderr. */
final class GenerateCommand {

    static CommandSpec spec(Cli cli) {
        List<OptionSpec> options = new ArrayList<>();
        options.add(CommandSpecs.value("prompt", "TEXT", "the prompt (a user message when --template llama2/llama3 is given)"));
        options.addAll(Settings.common());
        return CommandSpecs.command("generate", "", "continue a prompt and print only the generated text",
                "Continues TEXT (default: from BOS alone) and prints only the generated text on stdout.\n"
                        + "Without --model it uses the bundled stories260K model.", options, false,
                parsed -> run(Flags.of(parsed), cli.out(), cli.err(), cli));
    }

    private GenerateCommand() {
    }

    static int run(Flags f, PrintStream out, PrintStream err, Cli cli) {
        Consumer<String> log = cli.diagnostics();
        Sampler sampler = Settings.sampler(f, log);
        try (LoadedModel m = LoadedModel.open(f, log)) {
            int trained = m.llama().config().contextLength();
            int ctx = Settings.context(f, trained);
            ChatTemplate template = Settings.template(f).orElse(new PlainCompletion());
            String prompt = f.text("prompt").orElse("");
            int[] ids = PromptEncoder.encode(template.render(List.of(Message.user(prompt))), m.tokenizer(), template.name());
            if (ids.length == 0) {
                throw new UsageException("the prompt encodes to no tokens and the vocabulary has no BOS: give --prompt");
            }
            int maxTokens = Settings.maxTokens(f, ids.length, ctx, trained);
            log.accept("prompt: " + ids.length + " tokens, generating up to " + maxTokens + " (context " + ctx + ")");
            Set<Integer> stops = PromptEncoder.endOfReply(template, m.tokenizer());
            TokenStreamDecoder decoder = m.tokenizer().decoder();
            decoder.accept(ids[ids.length - 1]); // so the first piece is decoded in context (leading space or not)
            long start = System.nanoTime();
            Generator.Result r;
            try (LlamaSession session = m.llama().newSession(ctx)) {
                r = Generator.generate(session, ids, maxTokens, sampler, stops, token -> {
                    out.print(decoder.accept(token));
                    out.flush();
                });
            }
            out.print(decoder.flush());
            out.flush();
            err.println(); // ends the line on a terminal; stdout stays exactly the generated text
            double seconds = (System.nanoTime() - start) / 1e9;
            log.accept(String.format("generated %d tokens in %.2f s (%.1f tokens/s), stopped by %s",
                    r.tokens().length, seconds, r.tokens().length / seconds, r.stop()));
            cli.info(m.backends().summary());
            return 0;
        }
    }
}
