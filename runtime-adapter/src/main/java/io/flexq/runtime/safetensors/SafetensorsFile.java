package io.flexq.runtime.safetensors;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.MappedFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * An HF Llama checkpoint: {@code config.json} plus one or several {@code .safetensors} files (with or
 * without {@code model.safetensors.index.json}), presented in GGUF terms so the forward pass cannot tell
 * it from a GGUF converted by llama.cpp.
 *
 * <ul>
 * <li>Metadata: GGUF {@code llama.*} keys from config.json ({@link HfLlamaConfig#metadata()}).</li>
 * <li>Tensors: HF names mapped to GGUF names ({@link HfTensorNames}), shapes reversed into GGUF
 *   {@code ne} order, dtypes F32 / F16 / BF16 looked up as GGUF ids 0 / 1 / 30 in the caller's registry.
 *   Every expected tensor must be present with the shape config.json implies; unknown tensors are refused.
 *   With {@code tie_word_embeddings} the classifier is the embedding and {@code output.weight} is absent.</li>
 * <li><b>RoPE convention.</b> HF's Llama rotates each head's dimension i together with i + d/2
 *   ("rotate half", NeoX style); GGUF and llama2.c rotate adjacent pairs (2i, 2i+1). Like llama.cpp's
 *   converter, this loader permutes the <em>rows</em> of attn_q and attn_k (weights and biases) so the
 *   adjacent-pair rule gives the same attention: within head h (d = head_dim, n_head = heads for q,
 *   kv heads for k), for i in [0, d/2) and t in {0, 1}:
 *   <pre>  gguf_row[h*d + 2i + t] = hf_row[h*d + t*(d/2) + i]</pre>
 *   Output of q.k is unchanged because both sides are permuted alike. These two tensors are copies
 *   (in an arena freed by {@link #close()}); every other tensor is a zero-copy slice of the mapped file.</li>
 * <li>Llama 3 rope scaling ({@code rope_scaling.rope_type = "llama3"}) appears both as metadata keys
 *   {@code llama.rope.scaling.*} and, as llama.cpp's converter emits it, as the F32 tensor
 *   {@code rope_freqs.weight} of head_dim / 2 frequency divisors. They describe the same frequencies:
 *   a forward must apply one of them, not both.</li>
 * </ul>
 */
public final class SafetensorsFile implements ModelFile {

    static final String INDEX = "model.safetensors.index.json";

    private final Path path;
    private final List<MappedFile> files;
    private final Arena copies;
    private final Metadata metadata;
    private final Map<String, TensorEntry> tensors;

    private SafetensorsFile(Path path, List<MappedFile> files, Arena copies, Metadata metadata, Map<String, TensorEntry> tensors) {
        this.path = path;
        this.files = files;
        this.copies = copies;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Opens {@code model}: a directory holding config.json and the safetensors files, a single
     * {@code .safetensors} file (config.json beside it; when an index beside it lists the file, the whole
     * sharded model is opened), or a {@code model.safetensors.index.json}.
     */
    public static SafetensorsFile open(Path model, TensorTypes types) {
        Path dir;
        List<Path> shardPaths;
        Map<String, String> index = null;
        String name = model.getFileName() == null ? "" : model.getFileName().toString();
        if (Files.isDirectory(model)) {
            dir = model;
            if (Files.isRegularFile(dir.resolve(INDEX))) {
                index = readIndex(dir.resolve(INDEX));
                shardPaths = shardsOf(dir, dir.resolve(INDEX), index);
            } else if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
                shardPaths = List.of(dir.resolve("model.safetensors"));
            } else {
                shardPaths = listSafetensors(dir);
            }
        } else if (name.endsWith(".safetensors.index.json")) {
            dir = parentOf(model);
            index = readIndex(model);
            shardPaths = shardsOf(dir, model, index);
        } else {
            dir = parentOf(model);
            Path idx = dir.resolve(INDEX);
            if (Files.isRegularFile(idx) && (index = readIndex(idx)).containsValue(name)) {
                shardPaths = shardsOf(dir, idx, index);
            } else {
                index = null;
                shardPaths = List.of(model);
            }
        }
        Path configPath = dir.resolve("config.json");
        if (!Files.isRegularFile(configPath)) {
            throw new ModelFormatException(model + ": no config.json in " + dir + "; an HF safetensors model needs its config.json");
        }
        HfLlamaConfig config = HfLlamaConfig.read(configPath);

        List<MappedFile> files = new ArrayList<>();
        Arena copies = Arena.ofShared();
        try {
            Map<String, SafetensorsShard.Raw> raws = new LinkedHashMap<>();
            Map<String, Path> whereFrom = new LinkedHashMap<>();
            for (Path p : shardPaths) {
                MappedFile f = MappedFile.open(p);
                files.add(f);
                for (SafetensorsShard.Raw r : SafetensorsShard.open(f).tensors().values()) {
                    Path previous = whereFrom.putIfAbsent(r.name(), p);
                    if (previous != null) {
                        throw new ModelFormatException(p + ": tensor '" + r.name() + "' is also in " + previous);
                    }
                    raws.put(r.name(), r);
                }
            }
            if (index != null) {
                for (var e : index.entrySet()) {
                    Path p = whereFrom.get(e.getKey());
                    if (p == null || !p.getFileName().toString().equals(e.getValue())) {
                        throw new ModelFormatException(dir.resolve(INDEX) + ": lists tensor '" + e.getKey() + "' in "
                                + e.getValue() + ", but " + (p == null ? "no shard holds it" : "it is in " + p.getFileName()));
                    }
                }
            }
            Map<String, TensorEntry> tensors = map(raws, whereFrom, config, types, copies);
            return new SafetensorsFile(model, List.copyOf(files), copies,
                    new Metadata(configPath.toString(), config.metadata()), Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            files.forEach(MappedFile::close);
            copies.close();
            throw e;
        }
    }

    private static Map<String, TensorEntry> map(Map<String, SafetensorsShard.Raw> raws, Map<String, Path> whereFrom,
                                                HfLlamaConfig c, TensorTypes types, Arena copies) {
        // 9 tensors per layer + embedding + final norm: check before building per-layer tables, so a
        // hostile num_hidden_layers cannot allocate billions of entries
        long needed = 9L * c.layers() + 2;
        if (needed > raws.size()) {
            throw new ModelFormatException(c.path() + ": num_hidden_layers " + c.layers() + " needs at least " + needed
                    + " tensors but the safetensors files hold " + raws.size());
        }
        Map<String, long[]> expected = expectedShapes(c);
        Map<String, TensorEntry> out = new LinkedHashMap<>();
        for (SafetensorsShard.Raw r : raws.values()) {
            String file = whereFrom.get(r.name()).toString();
            String gguf = HfTensorNames.toGguf(r.name());
            if (gguf == null) {
                throw new ModelFormatException(file + ": tensor '" + r.name() + "' is not part of an HF Llama model "
                        + "(a different architecture, or an adapter/quantized checkpoint?)");
            }
            if (gguf.equals(HfTensorNames.SKIP) || (gguf.equals("output.weight") && c.tiedEmbeddings())) {
                continue;
            }
            int layer = HfTensorNames.layerOf(gguf);
            if (layer >= c.layers()) {
                throw new ModelFormatException(file + ": tensor '" + r.name() + "' belongs to layer " + layer
                        + " but config.json has num_hidden_layers " + c.layers());
            }
            TensorType type = types.require(typeId(file, r), file + ": tensor " + r.name());
            long[] ne = reversed(file, r);
            long[] want = expected.get(gguf);
            if (want == null && gguf.endsWith(".bias")) {
                long[] w = expected.get(gguf.replace(".bias", ".weight"));
                want = new long[]{w[1]};
            }
            if (!Arrays.equals(want, ne)) {
                throw new ModelFormatException(file + ": tensor '" + r.name() + "' has shape " + Arrays.toString(r.shape())
                        + " (GGUF ne " + Arrays.toString(ne) + ") but config.json implies ne " + Arrays.toString(want));
            }
            MemorySegment data = r.data();
            if (gguf.contains(".attn_q.") || gguf.contains(".attn_k.")) {
                int nHead = gguf.contains(".attn_q.") ? c.heads() : c.kvHeads();
                data = permuteRopeRows(data, nHead, c.headDim(), copies);
            }
            out.put(gguf, new TensorEntry(gguf, type, ne, data));
        }
        List<String> missing = new ArrayList<>();
        for (String n : expected.keySet()) {
            if (!out.containsKey(n) && !(n.equals("output.weight") && c.tiedEmbeddings())) {
                missing.add(n);
            }
        }
        if (!missing.isEmpty()) {
            throw new ModelFormatException(c.path().getParent() + ": the safetensors files lack " + missing.size()
                    + " tensor(s) config.json calls for, e.g. " + missing.subList(0, Math.min(5, missing.size()))
                    + (missing.contains("output.weight") ? " (lm_head.weight is missing and tie_word_embeddings is false)" : ""));
        }
        float[] ropeFactors = c.ropeFreqFactors();
        if (ropeFactors != null) {
            MemorySegment s = copies.allocate(4L * ropeFactors.length, 4);
            MemorySegment.copy(ropeFactors, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, ropeFactors.length);
            out.put("rope_freqs.weight", new TensorEntry("rope_freqs.weight", types.require(0, c.path() + ": rope_freqs.weight"),
                    new long[]{ropeFactors.length}, s));
        }
        return out;
    }

    /** The GGUF ne every weight must have (biases: the weight's row count). */
    private static Map<String, long[]> expectedShapes(HfLlamaConfig c) {
        long h = c.hiddenSize(), q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim();
        long ff = c.intermediateSize(), v = c.vocabSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("token_embd.weight", new long[]{h, v});
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            m.put(p + "attn_norm.weight", new long[]{h});
            m.put(p + "attn_q.weight", new long[]{h, q});
            m.put(p + "attn_k.weight", new long[]{h, kv});
            m.put(p + "attn_v.weight", new long[]{h, kv});
            m.put(p + "attn_output.weight", new long[]{q, h});
            m.put(p + "ffn_norm.weight", new long[]{h});
            m.put(p + "ffn_gate.weight", new long[]{h, ff});
            m.put(p + "ffn_up.weight", new long[]{h, ff});
            m.put(p + "ffn_down.weight", new long[]{ff, h});
        }
        m.put("output_norm.weight", new long[]{h});
        m.put("output.weight", new long[]{h, v});
        return m;
    }

    /**
     * Reorders the rows of a q or k projection from HF's rotate-half layout to adjacent pairs (formula in
     * the class comment). Works for any row-wise dtype: whole rows of {@code bytes / rows} bytes move.
     */
    static MemorySegment permuteRopeRows(MemorySegment src, int nHead, int headDim, Arena arena) {
        long rows = (long) nHead * headDim;
        long rowBytes = src.byteSize() / rows;
        MemorySegment dst = arena.allocate(src.byteSize(), 16);
        int half = headDim / 2;
        for (int h = 0; h < nHead; h++) {
            long base = (long) h * headDim;
            for (int i = 0; i < half; i++) {
                for (int t = 0; t < 2; t++) {
                    long to = base + 2L * i + t;
                    long from = base + (long) t * half + i;
                    MemorySegment.copy(src, from * rowBytes, dst, to * rowBytes, rowBytes);
                }
            }
        }
        return dst;
    }

    private static int typeId(String file, SafetensorsShard.Raw r) {
        return switch (r.dtype()) {
            case "F32" -> 0;
            case "F16" -> 1;
            case "BF16" -> 30;
            default -> throw new ModelFormatException(file + ": tensor '" + r.name() + "' has dtype " + r.dtype()
                    + "; only F32, F16 and BF16 safetensors are loaded");
        };
    }

    private static long[] reversed(String file, SafetensorsShard.Raw r) {
        long[] s = r.shape();
        if (s.length > 4) {
            throw new ModelFormatException(file + ": tensor '" + r.name() + "' has " + s.length + " dimensions (at most 4)");
        }
        if (s.length == 0) {
            return new long[]{1};
        }
        long[] ne = new long[s.length];
        for (int i = 0; i < s.length; i++) ne[i] = s[s.length - 1 - i];
        return ne;
    }

    /** weight_map of an index: tensor name -> shard file name. */
    private static Map<String, String> readIndex(Path index) {
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(index), index.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(index + ": cannot read: " + e.getMessage(), e);
        } catch (Json.JsonException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
        if (!(json.get("weight_map") instanceof Map<?, ?> wm)) {
            throw new ModelFormatException(index + ": no \"weight_map\" object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : wm.entrySet()) {
            if (!(e.getValue() instanceof String f) || f.isEmpty() || f.contains("/") || f.contains("\\") || f.equals("..") || f.equals(".")) {
                throw new ModelFormatException(index + ": weight_map entry '" + e.getKey() + "' -> " + e.getValue()
                        + " is not a file name in the model directory");
            }
            out.put((String) e.getKey(), f);
        }
        return out;
    }

    private static List<Path> shardsOf(Path dir, Path index, Map<String, String> weightMap) {
        Set<String> names = new LinkedHashSet<>(weightMap.values());
        if (names.isEmpty()) {
            throw new ModelFormatException(index + ": weight_map is empty");
        }
        List<Path> out = new ArrayList<>();
        for (String n : names) {
            Path p = dir.resolve(n);
            if (!Files.isRegularFile(p)) {
                throw new ModelFormatException(index + ": shard " + n + " is missing from " + dir);
            }
            out.add(p);
        }
        return out;
    }

    private static List<Path> listSafetensors(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = s.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))
                    .sorted().toList();
            if (out.isEmpty()) {
                throw new ModelFormatException(dir + ": no .safetensors files (and no " + INDEX + ")");
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static Path parentOf(Path p) {
        Path parent = p.toAbsolutePath().getParent();
        return parent == null ? Path.of(".") : parent;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String format() {
        return "safetensors";
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    @Override
    public synchronized void close() {
        files.forEach(MappedFile::close);
        if (copies.scope().isAlive()) {
            copies.close();
        }
    }
}
