package io.flexq.plugin.fuzz;

import io.flexq.runtime.fuzz.FuzzTarget;
import io.flexq.plugin.cli.Main;
import io.flexq.plugin.fq6.Fq6File;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The FQ6 reader under fuzz: an FQ6 file quantized here from stories260K (seed), opened as FQ6 (header and
 * flexq.* keys), every FQ6 tensor's codes, scales and activation mode read, then the model loaded with every backend
 * on the class path, as generate and eval do.
 */
final class Fq6Readers {

    private Fq6Readers() {
    }

    static final ClassLoader LOADER = Fq6Readers.class.getClassLoader();
    static final TensorTypes TYPES = BuiltinTypes.registry(LOADER);

    static FuzzTarget fq6(Path scratch) {
        Path seed = scratch.resolve("seed-fq6.gguf");
        if (!Files.exists(seed)) {
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            int status = Main.standard().run(new String[] {"quantize", SharedData.require("models/stories260K-f32.gguf").toString(),
                    seed.toString(), "--preset", "a8"}, quiet, quiet, false);
            if (status != 0) {
                throw new IllegalStateException("quantize of the fuzz seed failed: " + status);
            }
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(seed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new FuzzTarget("FQ6 metadata and tensors (stories260K a8)", bytes, (dir, in) -> {
            Path p = Files.write(dir.resolve("m.gguf"), in);
            try (Fq6File f = Fq6File.open(p, TYPES)) {
                for (String t : f.fq6Tensors()) {
                    f.weights(t);
                    f.mode(t);
                }
            }
            try (GgufFile g = GgufFile.open(p, TYPES)) {
                Tokenizers.fromMetadata(g.metadata()).encode("Once upon a time", true);
                Llama.load(g, LOADER, s -> { }).close();
            }
        });
    }
}
