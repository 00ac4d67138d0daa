package io.flexq.runtime.cli;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A model file, the Llama built from it and its tokenizer, opened from the command line: {@code --model} (default
 * the bundled stories260K.bin) and {@code --tokenizer} (default the bundled tok512.bin with the default model, the
 * vocabulary in a GGUF's metadata, or tokenizer.json beside a safetensors model).
 */
record LoadedModel(ModelFile file, Llama llama, Tokenizer tokenizer) implements AutoCloseable {

    static LoadedModel open(Flags flags, Consumer<String> log) {
        Path model;
        Path tokenizerPath = flags.text("tokenizer").map(Path::of).orElse(null);
        if (flags.has("model")) {
            model = Path.of(flags.text("model").orElseThrow());
        } else {
            Path home = FlexqHome.find();
            model = home.resolve(FlexqHome.DEFAULT_MODEL);
            if (tokenizerPath == null) {
                tokenizerPath = home.resolve(FlexqHome.DEFAULT_TOKENIZER);
            }
        }
        if (tokenizerPath != null && !Files.isRegularFile(tokenizerPath)) {
            throw new UsageException("--tokenizer: no such file " + tokenizerPath);
        }
        ClassLoader loader = LoadedModel.class.getClassLoader();
        ModelFile file = ModelFiles.open(model, BuiltinTypes.registry(loader));
        try {
            Tokenizer tokenizer = tokenizer(file, tokenizerPath);
            Llama llama = Llama.load(file, loader, log);
            Tokenizers.checkMatches(tokenizer, llama.config().vocabSize(), file.path(),
                    tokenizerPath != null ? tokenizerPath : file.path());
            return new LoadedModel(file, llama, tokenizer);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Tokenizer tokenizer(ModelFile file, Path tokenizerPath) {
        if (tokenizerPath != null) {
            String name = tokenizerPath.getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".json") ? Tokenizers.fromTokenizerJson(tokenizerPath) : Tokenizers.fromLlama2c(tokenizerPath);
        }
        if (file.metadata().has("tokenizer.ggml.model")) {
            return Tokenizers.fromMetadata(file.metadata());
        }
        Path dir = Files.isDirectory(file.path()) ? file.path() : file.path().toAbsolutePath().getParent();
        if (dir != null && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return Tokenizers.fromTokenizerJson(dir.resolve("tokenizer.json"));
        }
        throw new UsageException(file.path() + " carries no vocabulary (" + file.format() + "): pass --tokenizer"
                + " (a llama2.c tokenizer.bin such as tok512.bin, or a tokenizer.json)");
    }

    @Override
    public void close() {
        llama.close();
        file.close();
    }
}
