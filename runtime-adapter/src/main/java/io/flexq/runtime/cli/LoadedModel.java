package io.flexq.runtime.cli;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * A model file, the Llama built from it and its tokenizer, opened from the command line: {@code --model} (default
 * the bundled stories260K.bin) and {@code --tokenizer} (default the bundled tok512.bin with the default model, else
 * as {@link TokenizerLookup} finds it), after {@code --device} has set {@code flexq.device}. {@link #backends()}
 * says where the matrices went ({@link Backends#summary()}).
 */
record LoadedModel(ModelFile file, Llama llama, Tokenizer tokenizer, Backends backends) implements AutoCloseable {

    static LoadedModel open(Flags flags, Consumer<String> log) {
        DeviceOption.apply(flags.text(DeviceOption.NAME));
        KvCacheOption.apply(flags.text(KvCacheOption.NAME));
        Path model;
        Optional<Path> tokenizerPath = flags.text("tokenizer").map(Path::of);
        if (flags.has("model")) {
            model = Path.of(flags.text("model").orElseThrow());
        } else {
            Path home = FlexqHome.find();
            model = home.resolve(FlexqHome.DEFAULT_MODEL);
            if (tokenizerPath.isEmpty()) {
                tokenizerPath = Optional.of(home.resolve(FlexqHome.DEFAULT_TOKENIZER));
            }
        }
        if (!Files.exists(model)) {
            throw new CommandException("--model: no such file: " + model);
        }
        ClassLoader loader = LoadedModel.class.getClassLoader();
        ModelFile file = ModelFiles.open(model, BuiltinTypes.registry(loader));
        try {
            Tokenizer tokenizer = TokenizerLookup.find(file, tokenizerPath);
            Backends backends = Backends.discover(loader, log);
            List<DecoderOffload> offloads = new ArrayList<>();
            ServiceLoader.load(DecoderOffload.class, loader).forEach(offloads::add);
            Llama llama = Llama.load(file, backends, offloads, log);
            return new LoadedModel(file, llama, tokenizer, backends);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public void close() {
        llama.close();
        file.close();
    }
}
