package io.flexq.runtime.model;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.Quantizers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A Llama of a given {@link ModelShape} with seeded random weights, built in memory: a {@link ModelFile} whose tensors
 * live in a shared {@link Arena} (off-heap, readable by matmul pool threads) until {@link #close()}. For speed
 * measurements only: the weights are noise, so the text it produces is noise.
 *
 * <p>Matrices (embedding included) are stored in the requested type, quantized with the runtime's own
 * {@link Quantizers}; norm vectors are F32, as llama.cpp keeps them. Element {@code i} of tensor number {@code t}
 * is a function of (seed, t, i) alone (a counter-based generator), so the weights do not depend on the number of
 * threads that fill them, and the same seed gives the same underlying floats whatever the storage type.
 *
 * <p>Scales keep activations O(1) through any depth: a matrix with fan-in n has entries of standard deviation
 * 1/sqrt(n) (uniform on +-sqrt(3/n)), so a normalised input (RMS 1) gives outputs of RMS about 1; norm weights are
 * 1 +- 0.1; the embedding has deviation 1/sqrt(dim), so tied-head logits have deviation about 1.
 */
public final class SyntheticModel implements ModelFile {

    /** Floats generated (then quantized) per work item: bounds the heap used while filling to a few MB per thread. */
    private static final int CHUNK_FLOATS = 1 << 19;

    private final Path path;
    private final ModelShape shape;
    private final TensorType type;
    private final long seed;
    private final Metadata metadata;
    private final Map<String, TensorEntry> tensors;
    private final Arena arena;

    private SyntheticModel(ModelShape shape, TensorType type, long seed, Arena arena) {
        this.shape = shape;
        this.type = type;
        this.seed = seed;
        this.arena = arena;
        this.path = Path.of("synthetic-" + shape.name() + "-" + type.name().toLowerCase(java.util.Locale.ROOT) + "-seed" + seed);
        Map<String, Object> md = shape.metadata();
        md.put("general.name", "synthetic " + shape.name() + " (random weights, seed " + seed + ")");
        this.metadata = new Metadata(path.toString(), md);
        this.tensors = new LinkedHashMap<>();
    }

    /**
     * Generates the model. Takes the shape's parameter count times the type's bytes per element of native memory
     * (about 4.9 GB for Llama 3.2 1B in F32, 1.3 GB in Q8_0); freed by {@link #close()}.
     *
     * @param type F32 or any built-in type {@link Quantizers} encodes (F16, BF16, Q8_0, Q4_0, Q6_K); every matrix's
     *             column count must be a whole number of its blocks
     * @throws IllegalArgumentException naming the tensor when the type cannot store one of the matrices
     */
    public static SyntheticModel create(ModelShape shape, TensorType type, long seed) {
        Arena arena = Arena.ofShared();
        SyntheticModel m = new SyntheticModel(shape, type, seed, arena);
        try {
            m.generate();
            return m;
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Bytes {@link #create} will allocate for {@code shape} in {@code type}, without allocating them.
     *
     * @throws IllegalArgumentException when the type cannot store one of the matrices
     */
    public static long byteSize(ModelShape shape, TensorType type) {
        int dim = shape.dim();
        long embedding = rowBytes(shape, type, "token_embd.weight", dim, shape.vocabSize()) * shape.vocabSize();
        long perBlock = rowBytes(shape, type, "blk.0.attn_q.weight", dim, shape.qDim()) * shape.qDim()
                + 2 * rowBytes(shape, type, "blk.0.attn_k.weight", dim, shape.kvDim()) * shape.kvDim()
                + rowBytes(shape, type, "blk.0.attn_output.weight", shape.qDim(), dim) * dim
                + 2 * rowBytes(shape, type, "blk.0.ffn_gate.weight", dim, shape.hiddenDim()) * shape.hiddenDim()
                + rowBytes(shape, type, "blk.0.ffn_down.weight", shape.hiddenDim(), dim) * dim
                + 2 * 4L * dim;
        return embedding * (shape.tiedEmbeddings() ? 1 : 2) + shape.layers() * perBlock + 4L * dim;
    }

    /** Bytes of one row of tensor {@code name}, or an exception naming it when {@code type} cannot store it. */
    private static long rowBytes(ModelShape shape, TensorType type, String name, int cols, int rows) {
        try {
            return type.rowBytes(cols);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("synthetic " + shape.name() + ": tensor " + name + " (" + rows + " x " + cols
                    + ") cannot be stored as " + type.name() + ": " + e.getMessage(), e);
        }
    }

    private void generate() {
        int dim = shape.dim();
        matrix("token_embd.weight", dim, shape.vocabSize(), 1 / Math.sqrt(dim));
        for (int l = 0; l < shape.layers(); l++) {
            String p = "blk." + l + ".";
            norm(p + "attn_norm.weight", dim);
            matrix(p + "attn_q.weight", dim, shape.qDim(), 1 / Math.sqrt(dim));
            matrix(p + "attn_k.weight", dim, shape.kvDim(), 1 / Math.sqrt(dim));
            matrix(p + "attn_v.weight", dim, shape.kvDim(), 1 / Math.sqrt(dim));
            matrix(p + "attn_output.weight", shape.qDim(), dim, 1 / Math.sqrt(shape.qDim()));
            norm(p + "ffn_norm.weight", dim);
            matrix(p + "ffn_gate.weight", dim, shape.hiddenDim(), 1 / Math.sqrt(dim));
            matrix(p + "ffn_up.weight", dim, shape.hiddenDim(), 1 / Math.sqrt(dim));
            matrix(p + "ffn_down.weight", shape.hiddenDim(), dim, 1 / Math.sqrt(shape.hiddenDim()));
        }
        norm("output_norm.weight", dim);
        if (!shape.tiedEmbeddings()) {
            matrix("output.weight", dim, shape.vocabSize(), 1 / Math.sqrt(dim));
        }
    }

    /** A rows x cols matrix (GGUF ne = [cols, rows]) in the model's type, entries of deviation {@code std}. */
    private void matrix(String name, int cols, int rows, double std) {
        long rowBytes = rowBytes(shape, type, name, cols, rows);
        MemorySegment data = arena.allocate(Math.multiplyExact(rowBytes, rows), 64);
        int tensorIndex = tensors.size();
        float halfWidth = (float) (Math.sqrt(3) * std);
        int rowsPerChunk = Math.max(1, CHUNK_FLOATS / cols);
        // chunks are independent (counter-based values, disjoint byte ranges): fill them in parallel
        IntStream.range(0, Math.ceilDiv(rows, rowsPerChunk)).parallel().forEach(c -> {
            int r0 = c * rowsPerChunk;
            int n = Math.min(rowsPerChunk, rows - r0);
            float[] values = new float[n * cols];
            fill(values, tensorIndex, (long) r0 * cols, -halfWidth, halfWidth);
            Quantizers.quantize(type, values, n, cols, data.asSlice(r0 * rowBytes, n * rowBytes));
        });
        tensors.put(name, new TensorEntry(name, type, new long[]{cols, rows}, data));
    }

    /** A norm weight vector, F32, entries 1 +- 0.1. */
    private void norm(String name, int n) {
        float[] values = new float[n];
        fill(values, tensors.size(), 0, 0.9f, 1.1f);
        MemorySegment data = arena.allocate(4L * n, 64);
        Quantizers.quantize(FloatTypes.F32, values, 1, n, data);
        tensors.put(name, new TensorEntry(name, FloatTypes.F32, new long[]{n}, data));
    }

    /**
     * dst[j] = uniform in [lo, hi) for element {@code first + j} of tensor {@code tensorIndex}: two 24-bit uniforms
     * from each splitmix64 output of the counter (seed, tensor, element pair).
     */
    private void fill(float[] dst, int tensorIndex, long first, float lo, float hi) {
        long stream = mix(seed ^ mix(0x5EED_0000L + tensorIndex));
        float scale = (hi - lo) * 0x1p-24f;
        int j = 0;
        if ((first & 1) != 0) {  // start in the middle of a pair
            dst[j++] = lo + (mix(stream + (first >> 1)) & 0xFFFFFF) * scale;
        }
        for (; j + 1 < dst.length; j += 2) {
            long z = mix(stream + ((first + j) >> 1));
            dst[j] = lo + (z >>> 40) * scale;
            dst[j + 1] = lo + (z & 0xFFFFFF) * scale;
        }
        if (j < dst.length) {
            dst[j] = lo + (mix(stream + ((first + j) >> 1)) >>> 40) * scale;
        }
    }

    /** splitmix64's output function of the golden-ratio sequence: a bijective 64-bit mix. */
    private static long mix(long counter) {
        long z = counter * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public ModelShape shape() {
        return shape;
    }

    /** The storage type of the matrices. */
    public TensorType type() {
        return type;
    }

    public long seed() {
        return seed;
    }

    /** Bytes of every tensor (matrices and norms). */
    public long weightBytes() {
        return tensors.values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String format() {
        return "synthetic";
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Frees the tensors; a {@link io.flexq.runtime.spi.WeightMatrix} loaded from them must not be used after. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
