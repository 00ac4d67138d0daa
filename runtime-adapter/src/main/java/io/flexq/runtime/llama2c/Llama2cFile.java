package io.flexq.runtime.llama2c;

import io.flexq.runtime.model.MappedFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A llama2.c float32 checkpoint, memory-mapped and presented in GGUF terms (tensor names, {@code ne}
 * order, metadata keys), so the forward pass sees the same model whether it came from here or from a GGUF.
 *
 * <p>Two layouts are read, both little-endian float32 after the header:
 * <ul>
 * <li><b>legacy v0</b> ({@code export.py --version 0}, what {@code run.c} reads): a 7 x int32 header
 *   {@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len} where a negative
 *   vocab_size means the classifier is not shared with the embedding; then, each kind for all layers
 *   before the next kind: token_embedding[vocab][dim], rms_att[L][dim], wq[L][dim][dim],
 *   wk[L][kv_dim][dim], wv[L][kv_dim][dim], wo[L][dim][dim], rms_ffn[L][dim], w1[L][hidden][dim],
 *   w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim], freq_cis_real[seq_len][head_size/2],
 *   freq_cis_imag[seq_len][head_size/2] (not exposed: the forward computes RoPE itself), and
 *   wcls[vocab][dim] only when unshared.</li>
 * <li><b>version 1</b> ({@code export.py --version 1}): a 256-byte header, uint32 magic 0x616b3432
 *   ("ak42"), int32 version 1, the same 7 int32 (vocab_size positive), a uint8 shared-classifier flag,
 *   zero padding; then rms_att[L], rms_ffn[L], rms_final, token_embedding, wq[L], wk[L], wv[L], wo[L],
 *   w1[L], w2[L], w3[L], and wcls when unshared (no freq_cis).</li>
 * </ul>
 *
 * <p>A llama2.c row-major {@code [out][in]} matrix is GGUF {@code ne = [in, out]} with the same bytes,
 * so every tensor is a slice of the mapping. RoPE in llama2.c rotates adjacent pairs (x[2i], x[2i+1]),
 * which is GGUF's "normal" rope: no row permutation is needed. The file size must equal exactly what the
 * header implies; anything else is reported as a {@link ModelFormatException} naming the file.
 */
public final class Llama2cFile implements ModelFile {

    /** "ak42" read as a little-endian uint32: the magic of the version 1 (and 2) exports. */
    static final int MAGIC_V1 = 0x616b3432;
    static final int LEGACY_HEADER_BYTES = 7 * 4;
    static final int V1_HEADER_BYTES = 256;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The checkpoint's hyper-parameters as the header gives them ({@code vocabSize} always positive). */
    public record Config(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
                         boolean sharedClassifier) {
        public int headSize() {
            return dim / nHeads;
        }

        public int kvDim() {
            return headSize() * nKvHeads;
        }
    }

    private final MappedFile file;
    private final int version;
    private final Config config;
    private final Metadata metadata;
    private final Map<String, TensorEntry> tensors;

    private Llama2cFile(MappedFile file, int version, Config config, Metadata metadata, Map<String, TensorEntry> tensors) {
        this.file = file;
        this.version = version;
        this.config = config;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Maps and validates a llama2.c checkpoint. F32 is taken from {@code types} (id 0) so the tensors
     * carry the same type object as those of a GGUF loaded with the same registry.
     */
    public static Llama2cFile open(Path path, TensorTypes types) {
        TensorType f32 = types.require(0, path + ": llama2.c float32 weights");
        MappedFile file = MappedFile.open(path);
        try {
            return parse(file, f32);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Llama2cFile parse(MappedFile file, TensorType f32) {
        Path path = file.path();
        MemorySegment seg = file.segment();
        long size = seg.byteSize();
        if (size < 4) {
            throw new ModelFormatException(path + ": truncated llama2.c checkpoint: " + size
                    + " bytes, the header alone needs " + LEGACY_HEADER_BYTES);
        }
        int version;
        long headerBytes;
        long paramsAt;
        if (seg.get(I32, 0) == MAGIC_V1) {
            if (size < 8) {
                throw new ModelFormatException(path + ": truncated llama2.c v1 header: " + size + " bytes of " + V1_HEADER_BYTES);
            }
            version = seg.get(I32, 4);
            if (version != 1) {
                throw new ModelFormatException(path + ": llama2.c export version " + version
                        + " is not supported (only the float32 formats: legacy v0 and version 1)");
            }
            headerBytes = V1_HEADER_BYTES;
            paramsAt = 8;
        } else {
            version = 0;
            headerBytes = LEGACY_HEADER_BYTES;
            paramsAt = 0;
        }
        if (size < headerBytes) {
            throw new ModelFormatException(path + ": truncated llama2.c checkpoint: " + size
                    + " bytes, the version " + version + " header alone needs " + headerBytes);
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) {
            h[i] = seg.get(I32, paramsAt + 4L * i);
        }
        boolean shared = version == 0 ? h[5] > 0 : seg.get(ValueLayout.JAVA_BYTE, paramsAt + 28) != 0;
        Config config = validate(path, version, h, shared);

        // the size the header implies, computed before anything is allocated per layer: a hostile
        // n_layers must not make us build two billion slots
        long expected = expectedBytes(path, version, config, headerBytes);
        if (expected != size) {
            throw new ModelFormatException(path + ": file has " + size + " bytes but the llama2.c v" + version
                    + " header " + describe(config) + " implies " + expected + " bytes"
                    + (expected > size ? " (truncated?)" : " (trailing data, or not a float32 llama2.c checkpoint)"));
        }
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        long at = headerBytes;
        for (Slot s : version == 0 ? legacyLayout(config) : v1Layout(config)) {
            long bytes = s.rows * s.cols * 4L;                 // bounded by the file size checked above
            if (s.name != null) {
                long[] ne = s.vector ? new long[]{s.cols} : new long[]{s.cols, s.rows};
                tensors.put(s.name, new TensorEntry(s.name, f32, ne, seg.asSlice(at, bytes)));
            }
            at += bytes;
        }
        if (at != size) {
            throw new IllegalStateException("llama2.c layout and size formula disagree: " + at + " vs " + size);
        }
        return new Llama2cFile(file, version, config, metadata(path, config),
                Collections.unmodifiableMap(tensors));
    }

    /**
     * Header + 4 x (vocab*dim + L*(2*dim + 2*dim*dim + 2*kv_dim*dim + 3*hidden*dim) + dim
     * [+ seq_len*head_size for the legacy freq_cis] [+ vocab*dim when unshared]), in exact arithmetic.
     */
    private static long expectedBytes(Path path, int version, Config c, long headerBytes) {
        try {
            long dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
            long perLayer = Math.addExact(Math.addExact(2 * dim, Math.multiplyExact(2 * dim, dim)),
                    Math.addExact(Math.multiplyExact(2 * kv, dim), Math.multiplyExact(3 * hidden, dim)));
            long floats = Math.addExact(Math.multiplyExact(vocab, dim), Math.multiplyExact(c.nLayers(), perLayer));
            floats = Math.addExact(floats, dim);
            if (version == 0) {
                floats = Math.addExact(floats, Math.multiplyExact((long) c.seqLen(), c.headSize()));
            }
            if (!c.sharedClassifier()) {
                floats = Math.addExact(floats, Math.multiplyExact(vocab, dim));
            }
            return Math.addExact(headerBytes, Math.multiplyExact(floats, 4L));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path + ": header " + describe(c)
                    + " implies more than 2^63 bytes of weights; the header is corrupt");
        }
    }

    private static Config validate(Path path, int version, int[] h, boolean shared) {
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        for (int i = 0; i < 7; i++) {
            boolean ok = i == 5 && version == 0 ? h[i] != 0 && h[i] != Integer.MIN_VALUE : h[i] > 0;
            if (!ok) {
                throw new ModelFormatException(path + ": llama2.c header field " + names[i] + " = " + h[i]
                        + " is invalid (must be positive" + (i == 5 && version == 0 ? ", or negative for an unshared classifier" : "")
                        + "); is this a llama2.c checkpoint?");
            }
        }
        int dim = h[0], heads = h[3], kvHeads = h[4];
        if (dim % heads != 0) {
            throw new ModelFormatException(path + ": llama2.c header dim " + dim + " is not a multiple of n_heads " + heads);
        }
        if (kvHeads > heads || heads % kvHeads != 0) {
            throw new ModelFormatException(path + ": llama2.c header n_heads " + heads
                    + " is not a multiple of n_kv_heads " + kvHeads);
        }
        if ((dim / heads) % 2 != 0) {
            throw new ModelFormatException(path + ": llama2.c head size " + (dim / heads) + " is odd; RoPE needs pairs");
        }
        return new Config(dim, h[1], h[2], heads, kvHeads, Math.abs(h[5]), h[6], shared);
    }

    /** One stretch of floats in file order; {@code name} null for stretches that are skipped (freq_cis). */
    private record Slot(String name, long rows, long cols, boolean vector) {
    }

    private static List<Slot> legacyLayout(Config c) {
        List<Slot> out = new ArrayList<>();
        out.add(matrix("token_embd.weight", c.vocabSize(), c.dim()));
        perLayer(out, c, "attn_norm", 1, c.dim());
        perLayer(out, c, "attn_q", c.dim(), c.dim());
        perLayer(out, c, "attn_k", c.kvDim(), c.dim());
        perLayer(out, c, "attn_v", c.kvDim(), c.dim());
        perLayer(out, c, "attn_output", c.dim(), c.dim());
        perLayer(out, c, "ffn_norm", 1, c.dim());
        perLayer(out, c, "ffn_gate", c.hiddenDim(), c.dim());
        perLayer(out, c, "ffn_down", c.dim(), c.hiddenDim());
        perLayer(out, c, "ffn_up", c.hiddenDim(), c.dim());
        out.add(new Slot("output_norm.weight", 1, c.dim(), true));
        long half = c.headSize() / 2;
        out.add(new Slot(null, c.seqLen(), half, false));   // freq_cis_real
        out.add(new Slot(null, c.seqLen(), half, false));   // freq_cis_imag
        if (!c.sharedClassifier()) {
            out.add(matrix("output.weight", c.vocabSize(), c.dim()));
        }
        return out;
    }

    private static List<Slot> v1Layout(Config c) {
        List<Slot> out = new ArrayList<>();
        perLayer(out, c, "attn_norm", 1, c.dim());
        perLayer(out, c, "ffn_norm", 1, c.dim());
        out.add(new Slot("output_norm.weight", 1, c.dim(), true));
        out.add(matrix("token_embd.weight", c.vocabSize(), c.dim()));
        perLayer(out, c, "attn_q", c.dim(), c.dim());
        perLayer(out, c, "attn_k", c.kvDim(), c.dim());
        perLayer(out, c, "attn_v", c.kvDim(), c.dim());
        perLayer(out, c, "attn_output", c.dim(), c.dim());
        perLayer(out, c, "ffn_gate", c.hiddenDim(), c.dim());
        perLayer(out, c, "ffn_down", c.dim(), c.hiddenDim());
        perLayer(out, c, "ffn_up", c.hiddenDim(), c.dim());
        if (!c.sharedClassifier()) {
            out.add(matrix("output.weight", c.vocabSize(), c.dim()));
        }
        return out;
    }

    private static Slot matrix(String name, long rows, long cols) {
        return new Slot(name, rows, cols, false);
    }

    /** rows == 1 marks a per-layer vector (a norm weight), ne = [cols]. */
    private static void perLayer(List<Slot> out, Config c, String kind, long rows, long cols) {
        for (int l = 0; l < c.nLayers(); l++) {
            out.add(new Slot("blk." + l + "." + kind + ".weight", rows, cols, rows == 1));
        }
    }

    private static String describe(Config c) {
        return "(dim " + c.dim() + ", hidden_dim " + c.hiddenDim() + ", n_layers " + c.nLayers()
                + ", n_heads " + c.nHeads() + ", n_kv_heads " + c.nKvHeads() + ", vocab_size " + c.vocabSize()
                + (c.sharedClassifier() ? " shared" : " unshared") + ", seq_len " + c.seqLen() + ")";
    }

    /** The GGUF keys llama.cpp's llama loader reads, with llama2.c's fixed choices (eps 1e-5, theta 10000). */
    private static Metadata metadata(Path path, Config c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("general.architecture", "llama");
        m.put("general.name", stem(path));
        // llama.cpp writes these as uint32, which Metadata represents as Long
        m.put("llama.context_length", (long) c.seqLen());
        m.put("llama.embedding_length", (long) c.dim());
        m.put("llama.feed_forward_length", (long) c.hiddenDim());
        m.put("llama.block_count", (long) c.nLayers());
        m.put("llama.attention.head_count", (long) c.nHeads());
        m.put("llama.attention.head_count_kv", (long) c.nKvHeads());
        m.put("llama.rope.dimension_count", (long) c.headSize());
        m.put("llama.vocab_size", (long) c.vocabSize());
        m.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        m.put("llama.rope.freq_base", 10000f);
        return new Metadata(path.toString(), m);
    }

    private static String stem(Path path) {
        String n = path.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** 0 for the legacy format, 1 for the "ak42" version 1 export. */
    public int version() {
        return version;
    }

    public Config config() {
        return config;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String format() {
        return "llama2c";
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
    public void close() {
        file.close();
    }
}
