package io.flexq.runtime.fuzz;

import io.flexq.runtime.chat.ChatTemplate;
import io.flexq.runtime.chat.Message;
import io.flexq.runtime.chat.PromptEncoder;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama2c.Llama2cFile;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.safetensors.FuzzSeed;
import io.flexq.runtime.safetensors.SafetensorsFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tokenizer.Tokenizer;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * The runtime's readers, each with a seed from ../shared/models (small files only) or made here, read the way the
 * commands read them: a model file is opened, its tokenizer built and the model loaded (config, every tensor's
 * checks, backend upload); a tokenizer file is read and used to encode a prompt.
 */
public final class Readers {

    private Readers() {
    }

    static final TensorTypes TYPES = BuiltinTypes.registry(Readers.class.getClassLoader());
    static final String PROMPT = "Once upon a time, <s> [INST] \u2581x\u00e9\u4e2d\ud83d\ude00 <|eot_id|>\u0000\u001b";

    /** Opens a model the way generate does: tokenizer from its metadata if it has one, then the whole load. */
    static void load(ModelFile f) {
        if (f.metadata().has("tokenizer.ggml.model")) {
            Tokenizers.fromMetadata(f.metadata()).encode(PROMPT, true);
        }
        Backends backends = new Backends(List.of(new CpuBackend(ForkJoinPool.commonPool())), s -> { });
        Llama.load(f, backends, List.of(), s -> { }).close();
    }

    static Path write(Path dir, String name, byte[] input) throws IOException {
        return Files.write(dir.resolve(name), input);
    }

    private static byte[] shared(String relative) {
        try {
            return Files.readAllBytes(SharedData.require(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static FuzzTarget gguf() {
        return new FuzzTarget("GGUF (stories260K Q8_0)", shared("models/stories260K-q8_0.gguf"), (dir, in) -> {
            try (GgufFile f = GgufFile.open(write(dir, "m.gguf", in), TYPES)) {
                load(f);
            }
        });
    }

    public static FuzzTarget llama2c() {
        return new FuzzTarget("llama2.c checkpoint (stories260K.bin)", shared("models/stories260K.bin"), (dir, in) -> {
            try (ModelFile f = Llama2cFile.open(write(dir, "m.bin", in), TYPES)) {
                load(f);
            }
        });
    }

    public static FuzzTarget tokenizerBin() {
        return new FuzzTarget("tokenizer.bin (tok512.bin)", shared("models/tok512.bin"),
                (dir, in) -> Tokenizers.fromLlama2c(write(dir, "tok.bin", in)).encode(PROMPT, true));
    }

    public static FuzzTarget tokenizerJson() {
        return new FuzzTarget("tokenizer.json (Llama 3, first 600 ids)", SmallTokenizerJson.bytes(),
                (dir, in) -> Tokenizers.fromTokenizerJson(write(dir, "tokenizer.json", in)).encode(PROMPT, true));
    }

    /** The header and data of model.safetensors mutated, config.json intact. */
    public static FuzzTarget safetensors(Path scratch) {
        Path seedDir = seedModel(scratch);
        return new FuzzTarget("safetensors header (2-layer model)", read(seedDir.resolve("model.safetensors")), (dir, in) -> {
            Files.copy(seedDir.resolve("config.json"), dir.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            write(dir, "model.safetensors", in);
            try (ModelFile f = SafetensorsFile.open(dir, TYPES)) {
                load(f);
            }
        });
    }

    /** config.json mutated, model.safetensors intact. */
    public static FuzzTarget configJson(Path scratch) {
        Path seedDir = seedModel(scratch);
        return new FuzzTarget("config.json (2-layer model)", read(seedDir.resolve("config.json")), (dir, in) -> {
            Path st = dir.resolve("model.safetensors");
            if (!Files.exists(st)) {
                Files.createSymbolicLink(st, seedDir.resolve("model.safetensors"));
            }
            write(dir, "config.json", in);
            try (ModelFile f = SafetensorsFile.open(dir, TYPES)) {
                load(f);
            }
        });
    }

    /**
     * Chat input: the mutated bytes, decoded as UTF-8 (with replacement), are the user's and system's messages,
     * rendered by the llama2 and plain templates on two SentencePiece vocabularies and by the llama3 template on the
     * Llama 3 vocabulary (its special tokens included); every id must lie inside the vocabulary.
     */
    public static FuzzTarget chatInput() {
        Tokenizer tok = Tokenizers.fromLlama2c(SharedData.require("models/tok512.bin"));
        Tokenizer spm;
        try (GgufFile vocab = GgufFile.open(SharedData.require("data/tokenizer-tests/ggml-vocab-llama-spm.gguf"), TYPES)) {
            spm = Tokenizers.fromMetadata(vocab.metadata());
        }
        Tokenizer llama3 = Tokenizers.fromTokenizerJson(SharedData.require("data/tokenizer-tests/llama3-tokenizer.json"));
        Map<String, List<Tokenizer>> templates = new LinkedHashMap<>();
        templates.put("llama2", List.of(tok, spm));
        templates.put("plain", List.of(tok, spm, llama3));
        templates.put("llama3", List.of(llama3));
        byte[] seed = "Hello [INST] <<SYS>> </s><s> <|start_header_id|>user<|end_header_id|> caf\u00e9 \u2581\u2581 <0x0A> <|eot_id|>"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return new FuzzTarget("chat template input (llama2/plain on tok512 and the Llama 2 vocabulary, llama3/plain on Llama 3's)", seed, (dir, in) -> {
            String text = new String(in, java.nio.charset.StandardCharsets.UTF_8);
            int cut = text.length() / 3;
            List<Message> conversation = List.of(Message.system(text.substring(0, cut)), Message.user(text.substring(cut)),
                    Message.assistant(text), Message.user(text.substring(cut / 2)));
            for (var e : templates.entrySet()) {
                ChatTemplate t = ChatTemplate.named(e.getKey());
                for (Tokenizer k : e.getValue()) {
                    int[] ids = PromptEncoder.encode(t.render(conversation), k, e.getKey());
                    for (int id : ids) {
                        if (id < 0 || id >= k.vocabularySize()) {
                            throw new AssertionError("id " + id + " outside the vocabulary");
                        }
                    }
                }
            }
        });
    }

    private static Path seedModel(Path scratch) {
        Path dir = scratch.resolve("seed-model");
        try {
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                FuzzSeed.smallModel(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
