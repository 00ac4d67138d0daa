package io.flexq.jlama;

import io.flexq.jlama.convert.HfFolderWriter;
import io.flexq.runtime.model.SharedData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Jlama fixtures: HF folders converted from ../shared/models by our converter, once per build. */
final class Fixtures {

    static final String REF27M = "flexq-ref-27M-f16.gguf";
    static final String STORIES = "stories260K-f32.gguf";

    private Fixtures() {
    }

    static Path shared(String model) {
        return SharedData.require("models/" + model);
    }

    /** The HF folder made from {@code model} under target/jlama-fixtures (made if missing). */
    static synchronized Path hfFolder(String model) {
        Path out = Path.of("target", "jlama-fixtures", model.replace(".gguf", "")).toAbsolutePath();
        if (!Files.isRegularFile(out.resolve("model.safetensors"))) {
            try {
                Files.createDirectories(out.getParent());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            HfFolderWriter.convert(shared(model), Optional.empty(), out);
        }
        return out;
    }
}
