package io.flexq.runtime.model;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.llama2c.Llama2cFile;
import io.flexq.runtime.safetensors.SafetensorsFile;
import io.flexq.runtime.spi.TensorTypes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a model file with the loader its content or name calls for. */
public final class ModelFiles {

    private ModelFiles() {
    }

    /**
     * Opens {@code model}: a file starting with the GGUF magic is read as GGUF (whatever its name); a
     * directory holding config.json, or a {@code .safetensors} / {@code .safetensors.index.json} file,
     * as an HF safetensors model; a {@code .bin} file (or one starting with llama2.c's "ak42" magic) as a
     * llama2.c checkpoint. Anything else is refused with a message naming the path and the formats accepted.
     */
    public static ModelFile open(Path model, TensorTypes types) {
        if (Files.isDirectory(model)) {
            if (Files.isRegularFile(model.resolve("config.json"))) {
                return SafetensorsFile.open(model, types);
            }
            throw new ModelFormatException(model + ": a directory without config.json; expected a GGUF file, a llama2.c .bin, "
                    + "or an HF model directory (config.json + *.safetensors)");
        }
        if (!Files.isRegularFile(model)) {
            throw new ModelFormatException(model + ": no such model file");
        }
        int magic = magic(model);
        String name = model.getFileName().toString().toLowerCase(Locale.ROOT);
        if (magic == 0x46554747) {                           // "GGUF"
            return GgufFile.open(model, types);
        }
        if (name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json")) {
            return SafetensorsFile.open(model, types);
        }
        if (name.endsWith(".bin") || magic == 0x616b3432) {  // llama2.c legacy (no magic) or "ak42"
            return Llama2cFile.open(model, types);
        }
        if (name.endsWith(".gguf")) {
            return GgufFile.open(model, types);               // reports the wrong magic
        }
        throw new ModelFormatException(model + ": unrecognised model file; expected a GGUF file, a llama2.c checkpoint (.bin), "
                + "or safetensors (.safetensors, or a directory with config.json)");
    }

    /** The first 4 bytes as a little-endian int, or 0 for a shorter file. */
    private static int magic(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(4);
            return b.length < 4 ? 0 : (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
