package io.flexq.runtime.cli;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * How every {@code flexq} command finds a model's tokenizer, in this order: {@code --tokenizer FILE} (a llama2.c
 * tokenizer.bin or a tokenizer.json); the GGUF's {@code tokenizer.ggml.*} keys; a file beside the model
 * (tokenizer.json in a safetensors folder or beside a .safetensors file; tokenizer.bin, or the only tok*.bin,
 * beside a llama2.c checkpoint). The result is checked against the model's embedding rows.
 */
public final class TokenizerLookup {

    /** A tokenizer and the file it came from (the model itself for GGUF metadata). */
    public record Found(Tokenizer tokenizer, Path source) {
    }

    private TokenizerLookup() {
    }

    public static Tokenizer find(ModelFile model, Optional<Path> flag) {
        return locate(model, flag).tokenizer();
    }

    public static Found locate(ModelFile model, Optional<Path> flag) {
        Path source;
        Tokenizer tok;
        if (flag.isPresent()) {
            source = flag.get();
            if (!Files.isRegularFile(source)) {
                throw new CommandException("--tokenizer: no such file: " + source);
            }
            tok = fromFile(source);
        } else if (model.metadata().has("tokenizer.ggml.model")) {
            source = model.path();
            tok = Tokenizers.fromMetadata(model.metadata());
        } else {
            source = beside(model).orElseThrow(() -> new CommandException(model.path() + " carries no vocabulary (" + model.format()
                    + ") and no tokenizer file was found beside it; pass --tokenizer FILE (a llama2.c tokenizer.bin such as"
                    + " tok512.bin, or a tokenizer.json)"));
            tok = fromFile(source);
        }
        Tokenizers.checkMatches(tok, model.tensor("token_embd.weight").rows(), model.path(), source);
        return new Found(tok, source);
    }

    /** A tokenizer.json by its name, else a llama2.c tokenizer.bin. */
    public static Tokenizer fromFile(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")
                ? Tokenizers.fromTokenizerJson(p) : Tokenizers.fromLlama2c(p);
    }

    private static Optional<Path> beside(ModelFile model) {
        Path m = model.path().toAbsolutePath();
        if (Files.isDirectory(m)) {
            return regular(m.resolve("tokenizer.json"));
        }
        Path dir = m.getParent();
        if (dir == null) {
            return Optional.empty();
        }
        if (model.format().equals("safetensors")) {
            return regular(dir.resolve("tokenizer.json"));
        }
        Optional<Path> bin = regular(dir.resolve("tokenizer.bin"));
        if (bin.isPresent()) {
            return bin;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> toks = files.filter(f -> {
                String n = f.getFileName().toString();
                return n.startsWith("tok") && n.endsWith(".bin") && !f.equals(m);
            }).toList();
            return toks.size() == 1 ? Optional.of(toks.getFirst()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> regular(Path p) {
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }
}
