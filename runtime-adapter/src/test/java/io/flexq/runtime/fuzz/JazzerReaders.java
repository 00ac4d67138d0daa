package io.flexq.runtime.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Jazzer entry point for the runtime's readers (issue 11), one per run, named by {@code --target_args}:
 * gguf, llama2c, tokenizer-bin, tokenizer-json, safetensors, config-json, chat. Run by tools/fuzz-jazzer.sh on the
 * release-23 build ({@code -Pfuzz}); the contract is {@link JazzerContract}.
 */
public final class JazzerReaders {

    private JazzerReaders() {
    }

    static final Map<String, Function<Path, FuzzTarget>> TARGETS = Map.of(
            "gguf", scratch -> Readers.gguf(),
            "llama2c", scratch -> Readers.llama2c(),
            "tokenizer-bin", scratch -> Readers.tokenizerBin(),
            "tokenizer-json", scratch -> Readers.tokenizerJson(),
            "safetensors", Readers::safetensors,
            "config-json", Readers::configJson,
            "chat", scratch -> Readers.chatInput());

    private static JazzerContract contract;

    /** The target named {@code name}; {@code scratch} holds the seed models some targets write once. */
    public static FuzzTarget target(String name, Path scratch) {
        Function<Path, FuzzTarget> make = TARGETS.get(name);
        if (make == null) {
            throw new IllegalArgumentException("unknown reader '" + name + "', one of " + List.copyOf(TARGETS.keySet()));
        }
        return make.apply(scratch);
    }

    public static void fuzzerInitialize(String[] args) {
        if (args.length != 1) {
            throw new IllegalArgumentException("--target_args=READER, one of " + List.copyOf(TARGETS.keySet()));
        }
        try {
            contract = start(args[0], target(args[0], Files.createTempDirectory("flexq-jazzer-seed")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The contract for one target, after writing its seeds where {@code -Dflexq.fuzz.seeds=DIR} says, if set; at exit
     * it prints its summary and saves its slowest input where {@code -Dflexq.fuzz.slowest=DIR} says, if set.
     */
    public static JazzerContract start(String reader, FuzzTarget target) {
        String seeds = System.getProperty("flexq.fuzz.seeds");
        if (seeds != null) {
            try {
                JazzerSeeds.write(reader, target, Path.of(seeds));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        JazzerContract c = new JazzerContract(target);
        String slowest = System.getProperty("flexq.fuzz.slowest");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println(c.summary());
            try {
                if (slowest != null) c.saveSlowest(Path.of(slowest));
            } catch (IOException e) {
                System.err.println("flexq-jazzer: could not save the slowest input: " + e);
            }
        }));
        return c;
    }

    public static void fuzzerTestOneInput(byte[] input) throws Throwable {
        contract.check(input);
    }
}
