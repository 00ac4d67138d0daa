package io.flexq.plugin.cli;

import io.flexq.plugin.eval.Evaluator;
import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.Quality;
import io.flexq.plugin.eval.Windows;
import io.flexq.runtime.cli.DeviceOption;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * {@code flexq eval MODEL [--ref REF] --text FILE}: perplexity of MODEL on a text, and against a reference model on
 * the same tokens mean and 99th-percentile KL divergence and top-1 agreement. The protocol is llama.cpp's
 * llama-perplexity (see {@link Windows}): windows of --ctx tokens, BOS first, second half of each window scored.
 */
public final class EvalCommand implements Command {

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "perplexity of a model on a text; KL divergence and top-1 agreement against a reference model";
    }

    @Override
    public String synopsis() {
        return "MODEL --text FILE";
    }

    @Override
    public String details() {
        return """
                The text is tokenized once with MODEL's tokenizer (BOS first, "<unk>" and other special-token
                text read as plain characters), cut into non-overlapping windows of --ctx tokens, and each window
                is run from an empty cache with its first token replaced by BOS. As llama.cpp's llama-perplexity
                does, only the second half of every window is scored (ctx/2 - 1 tokens per window, each with at
                least ctx/2 tokens of context). KLD is KL(REF || MODEL) in nats per token; p99 is the 99th
                percentile over tokens; top-1 is the share of tokens where both models' argmax agree.
                """;
    }

    @Override
    public List<Flag> flags() {
        return List.of(
                Flag.value("text", "FILE", "text to score (required), e.g. ../shared/data/wikitext2-test.txt"),
                Flag.value("ref", "REFMODEL", "reference model for KLD / top-1 (same tokenizer), e.g. the unquantized model"),
                Flag.value("windows", "N", "score only the first N windows (default: all whole windows of the text)"),
                Flag.value("ctx", "N", "window length in tokens (default 512)"),
                Flag.value("tokenizer", "FILE", "tokenizer for a model without one (llama2.c tokenizer.bin, tokenizer.json)"),
                Flag.value(DeviceOption.NAME, "auto|cpu|cuda", DeviceOption.HELP),
                Flag.bool("json", "print one JSON object {ppl, kld_mean, kld_p99, top1, tokens} on stdout"));
    }

    @Override
    public int run(Args args, Console console) throws Exception {
        args.expectPositional(1, 1, synopsis());
        String textArg = args.value("text").orElseThrow(() -> new CliException.Usage("--text FILE is required"));
        Path textPath = Args.existingFile(textArg, "--text");
        int ctx = args.intValue("ctx", 512, 4, 1 << 20);
        int maxWindows = args.intValue("windows", 0, 1, Integer.MAX_VALUE);
        boolean json = args.has("json");
        DeviceOption.apply(args.value(DeviceOption.NAME));

        try (ModelFile modelFile = ModelLoading.open(args.positional(0), "MODEL");
             ModelFile refFile = args.value("ref").map(r -> ModelLoading.open(r, "--ref")).orElse(null)) {
            Tokenizer tok = ModelLoading.tokenizer(modelFile, args.value("tokenizer"));
            if (tok.bos() < 0) {
                throw new CliException(modelFile.path() + ": the vocabulary has no BOS token, which the perplexity protocol puts first in every window");
            }
            int[] tokens = tok.encodeWithBos(Files.readString(textPath, StandardCharsets.UTF_8), false);
            Windows windows = Windows.of(tokens, ctx, maxWindows, tok.bos());
            if (windows.count() == 0) {
                throw new CliException("--text " + textArg + ": " + tokens.length + " tokens do not fill one window of " + ctx + " (lower --ctx)");
            }
            ClassLoader loader = getClass().getClassLoader();
            Backends backends = Backends.discover(loader, console::debug);
            List<DecoderOffload> offloads = ServiceLoader.load(DecoderOffload.class, loader).stream().map(ServiceLoader.Provider::get).toList();
            try (Llama model = Llama.load(modelFile, backends, offloads, console::debug);
                 Llama ref = refFile == null ? null : Llama.load(refFile, getClass().getClassLoader(), console::debug);
                 LlamaLogits modelLogits = new LlamaLogits(model, ctx);
                 LlamaLogits refLogits = ref == null ? null : new LlamaLogits(ref, ctx)) {
                if (ref != null && ref.config().vocabSize() != model.config().vocabSize()) {
                    throw new CliException("--ref " + refFile.path() + " has a vocabulary of " + ref.config().vocabSize()
                            + " tokens, MODEL " + model.config().vocabSize() + ": KLD needs the same tokenizer");
                }
                Evaluator.Result result;
                try (ProgressBar bar = console.progress("eval", windows.count())) {
                    result = Evaluator.run(windows, refLogits, List.of(modelLogits), done -> bar.set(done, null));
                }
                Quality q = result.candidates().getFirst();
                if (json) {
                    console.out().println(q.toJson());
                } else {
                    print(console, modelFile.path(), refFile == null ? null : refFile.path(), windows, q, result.reference());
                }
                console.info(backends.summary()); // where MODEL's matrices ran
            }
        }
        return 0;
    }

    private static void print(Console c, Path model, Path ref, Windows w, Quality q, Quality refQ) {
        var out = c.out();
        out.printf(Locale.ROOT, "%s: %d windows of %d tokens, %d tokens scored (second half of each window, as llama-perplexity)%n",
                model, w.count(), w.ctx(), q.tokens());
        out.printf(Locale.ROOT, "PPL        %.4f +/- %.4f%n", q.ppl(), q.pplError());
        if (ref != null) {
            out.printf(Locale.ROOT, "ref PPL    %.4f +/- %.4f  (%s)%n", refQ.ppl(), refQ.pplError(), ref);
            out.printf(Locale.ROOT, "mean KLD   %.6f%n", q.kldMean());
            out.printf(Locale.ROOT, "p99 KLD    %.6f%n", q.kldP99());
            out.printf(Locale.ROOT, "same top-1 %.2f%%%n", 100 * q.top1());
        }
    }
}
