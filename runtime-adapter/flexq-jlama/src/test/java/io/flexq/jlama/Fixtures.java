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
     * An FQ6 W6A8 GGUF written by {@code flexq quantize --no-gptq --head keep --max-bytes none} from the HF folder of {@code model}
     * (beside the folder, so the folder's hash stays the one recorded in the file): the clipping-search weights the
     * adapter's quantize-at-load also makes, and the head kept as stored, so both routes hold the same weights. {@code tokenizerBin}: our tokenizer.json reader
     * does not read SentencePiece-style files yet, so the CLI is given the llama2.c vocabulary.
     */
    static synchronized Path fq6(String model, String tokenizerBin) {
        Path dir = hfFolder(model);
        Path out = dir.resolveSibling(dir.getFileName() + "-a8-clip-headkeep.fq6.gguf");
        if (!Files.isRegularFile(out)) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int rc = io.flexq.plugin.cli.Main.standard().run(new String[]{"quantize", dir.toString(), out.toString(), "--preset", "a8",
                    "--no-gptq", "--head", "keep", "--max-bytes", "none", "--tokenizer", shared(tokenizerBin).toString()}, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                    new java.io.PrintStream(err), false);
            if (rc != 0) {
                throw new IllegalStateException("flexq quantize failed: " + err);
            }
        }
        return out;
    }

    /**
     * Jlama's own Q4 of the HF folder of {@code model}, made by Jlama's quantizer ({@code SafeTensorSupport.quantizeModel},
     * what its {@code quantize} command runs): the 56 linears in Q4, norms, embedding and LM head kept, as FQ6 keeps them.
     * (Jlama 0.8.4's {@code --quantize-to Q4} at load leaves the row-sharded q/k/v/gate/up in F32 and then fails
     * with I8 activations, so a pre-quantized folder is how Jlama users run Q4.)
     */
    static synchronized Path jlamaQ4(String model) throws java.io.IOException {
        return jlamaQ4Beside(hfFolder(model));
    }

    /** Jlama's Q4 (as {@link #jlamaQ4}) of the HF folder {@code dir}, in {@code dir + "-JQ4"} (made if missing). */
    static synchronized Path jlamaQ4Beside(Path dir) throws java.io.IOException {
        Path out = dir.resolveSibling(dir.getFileName() + "-JQ4");
        if (!Files.isRegularFile(out.resolve("model.safetensors"))) {
            com.github.tjake.jlama.safetensors.SafeTensorSupport.quantizeModel(dir, com.github.tjake.jlama.safetensors.DType.Q4,
                    new String[]{"norm", "embed_tokens", "lm_head"}, null, Optional.of(out));
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
