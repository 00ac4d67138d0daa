package io.flexq.plugin.cli;

import io.flexq.runtime.cli.TokenizerLookup;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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
     * The model's tokenizer, found as every flexq command finds it ({@link TokenizerLookup}): {@code --tokenizer}
     * when given, else the GGUF's keys, else a tokenizer file beside the model; checked against the embedding.
     */
    static Tokenizer tokenizer(ModelFile model, Optional<String> flag) {
        return TokenizerLookup.find(model, flag.map(f -> Args.existingFile(f, "--tokenizer")));
    }
}
