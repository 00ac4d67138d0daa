package io.flexq.runtime.fuzz;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tokenizer.HfLlamaTokenizerJson;
import io.flexq.runtime.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seed inputs for the coverage-guided runs, beside each target's own seed (a real file from ../shared/models or one
 * the tests write): small valid files, so that most of the fuzzer's edits land in headers, metadata and vocabularies
 * rather than in tensor data, and the head of a real file, whose reads end early. Written into the fuzzer's seed
 * folder before it starts.
 */
public final class JazzerSeeds {

    private JazzerSeeds() {
    }

    /** Writes the seeds of {@code reader} (its target's seed first) into {@code dir}, if the folder is still empty. */
    public static void write(String reader, FuzzTarget target, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (var s = Files.list(dir)) {
            if (s.findAny().isPresent()) return;
        }
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("seed", target.seed());
        switch (reader) {
            case "gguf" -> {
                seeds.put("tiny-with-stories-vocab.gguf", tinyGguf(dir));
                seeds.put("stories260K-q8_0-head8k", Arrays.copyOf(target.seed(), 8192));
            }
            case "llama2c" -> {
                seeds.put("tiny-v0-shared.bin", tinyLlama2c(true));
                seeds.put("tiny-v0-unshared.bin", tinyLlama2c(false));
            }
            case "tokenizer-bin" -> seeds.put("flexq-ref-27M-tok4096.bin", Files.readAllBytes(SharedData.require("models/flexq-ref-27M-tok4096.bin")));
            case "tokenizer-json" -> {
                var tok512 = Tokenizers.fromLlama2c(SharedData.require("models/tok512.bin"));
                seeds.put("tok512-llama2-legacy.json", HfLlamaTokenizerJson.write(tok512, HfLlamaTokenizerJson.Form.LEGACY).getBytes());
                seeds.put("tok512-llama2-metaspace.json", HfLlamaTokenizerJson.write(tok512, HfLlamaTokenizerJson.Form.METASPACE).getBytes());
            }
            default -> { }
        }
        for (var e : seeds.entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue());
        }
    }

    /** A one-layer, 8-wide F32 model with stories260K's 512-token vocabulary (about 30 KB). */
    static byte[] tinyGguf(Path scratch) throws IOException {
        ModelShape shape = new ModelShape("fuzz-seed", 8, 16, 1, 2, 1, 4, 512, 32, 10000.0, null, true);
        Path out = scratch.resolve("tiny.gguf.tmp");
        try (GgufFile stories = GgufFile.open(SharedData.require("models/stories260K-q8_0.gguf"), Readers.TYPES);
             SyntheticModel m = SyntheticModel.create(shape, FloatTypes.F32, 11)) {
            GgufWriter w = new GgufWriter();
            m.metadata().asMap().forEach((k, v) -> {
                if (!k.equals("general.alignment")) w.put(k, v);
            });
            stories.metadata().asMap().keySet().stream().filter(k -> k.startsWith("tokenizer."))
                    .forEach(k -> w.put(k, stories.typeOf(k), stories.metadata().require(k)));
            for (TensorEntry t : m.tensors().values()) w.addTensor(t);
            w.write(out);
        }
        byte[] bytes = Files.readAllBytes(out);
        Files.delete(out);
        return bytes;
    }

    /** A legacy (v0) llama2.c checkpoint: dim 8, hidden 16, 1 layer, 2 heads over 1 KV head, vocab 32, context 16. */
    static byte[] tinyLlama2c(boolean shared) {
        int dim = 8, hidden = 16, layers = 1, heads = 2, kvHeads = 1, vocab = 32, seq = 16;
        int kvDim = dim / heads * kvHeads;
        long floats = (long) vocab * dim + layers * (2L * dim + 2L * dim * dim + 2L * kvDim * dim + 3L * hidden * dim)
                + dim + (long) seq * (dim / heads) + (shared ? 0 : (long) vocab * dim);
        ByteBuffer b = ByteBuffer.allocate(28 + (int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(shared ? vocab : -vocab).putInt(seq);
        SplittableRandom r = new SplittableRandom(13);
        while (b.hasRemaining()) b.putFloat((float) (r.nextDouble() - 0.5));
        return b.array();
    }
}
