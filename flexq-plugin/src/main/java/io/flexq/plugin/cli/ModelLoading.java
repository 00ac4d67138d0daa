package io.flexq.plugin.cli;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/** Opening models and finding their tokenizers, the same way for every subcommand. */
final class ModelLoading {

    private ModelLoading() {
    }

    /** Built-in tensor types plus every plugin type on the class path (FQ6 among them). */
    static TensorTypes types() {
        return BuiltinTypes.registry(ModelLoading.class.getClassLoader());
    }

    /** Opens a GGUF, llama2.c or safetensors model; {@code what} names the argument in messages. */
    static ModelFile open(String path, String what) {
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            throw new CliException(what + ": no such file: " + path);
        }
        return ModelFiles.open(p, types());
    }

    /**
     * The model's tokenizer: {@code --tokenizer FILE} when given (a llama2.c tokenizer.bin or a tokenizer.json),
     * else the GGUF tokenizer.ggml.* keys, else a tokenizer file beside the model (tokenizer.json in a safetensors
     * directory; tokenizer.bin, or the only tok*.bin, beside a llama2.c checkpoint). Checked against the
     * embedding's row count.
     */
    static Tokenizer tokenizer(ModelFile model, Optional<String> flag) {
        Path source;
        Tokenizer tok;
        if (flag.isPresent()) {
            source = Args.existingFile(flag.get(), "--tokenizer");
            tok = fromFile(source);
        } else if (model.metadata().has("tokenizer.ggml.model")) {
            source = model.path();
            tok = Tokenizers.fromMetadata(model.metadata());
        } else {
            source = beside(model).orElseThrow(() -> new CliException(model.path() + " carries no vocabulary and no tokenizer file was found "
                    + "beside it; give one with --tokenizer FILE (llama2.c tokenizer.bin or tokenizer.json)"));
            tok = fromFile(source);
        }
        Tokenizers.checkMatches(tok, model.tensor("token_embd.weight").rows(), model.path(), source);
        return tok;
    }

    static Tokenizer fromFile(Path p) {
        return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")
                ? Tokenizers.fromTokenizerJson(p) : Tokenizers.fromLlama2c(p);
    }

    private static Optional<Path> beside(ModelFile model) {
        Path m = model.path().toAbsolutePath();
        if (Files.isDirectory(m)) {
            Path json = m.resolve("tokenizer.json");
            return Files.isRegularFile(json) ? Optional.of(json) : Optional.empty();
        }
        Path dir = m.getParent();
        if (model.format().equals("safetensors")) {
            Path json = dir.resolve("tokenizer.json");
            return Files.isRegularFile(json) ? Optional.of(json) : Optional.empty();
        }
        Path bin = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(bin)) {
            return Optional.of(bin);
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
}
