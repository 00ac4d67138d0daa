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

    /**
     * An FQ6 W6A8 GGUF written by {@code flexq quantize} from the HF folder of {@code model} (beside the folder,
     * so the folder's hash stays the one recorded in the file). {@code tokenizerBin}: our tokenizer.json reader
     * does not read SentencePiece-style files yet, so the CLI is given the llama2.c vocabulary.
     */
    static synchronized Path fq6(String model, String tokenizerBin) {
        Path dir = hfFolder(model);
        Path out = dir.resolveSibling(dir.getFileName() + "-a8.fq6.gguf");
        if (!Files.isRegularFile(out)) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int rc = io.flexq.plugin.cli.Main.standard().run(new String[]{"quantize", dir.toString(), out.toString(), "--preset", "a8",
                    "--tokenizer", shared(tokenizerBin).toString()}, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                    new java.io.PrintStream(err), false);
            if (rc != 0) {
                throw new IllegalStateException("flexq quantize failed: " + err);
            }
        }
        return out;
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
