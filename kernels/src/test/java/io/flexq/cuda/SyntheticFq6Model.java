package io.flexq.cuda;

import io.flexq.runtime.tensor.Q8_0Type;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A random-weight FQ6 model of any shape, in host memory, for load and speed runs at sizes whose F16 source would not
 * fit a disk (Llama-2-70B: 138 GB in F16, 54 GB in FQ6): every linear an FQ6 tensor of random codes (any byte pattern
 * is valid) with fp16 scales near 0.02 / 31, embedding and head F16 of magnitude 2^-6 .. 2^-5, norms 1. Never for quality.
 * With {@code f16Linears}, the linears are F16 like the head instead (the FP16 model of the same shape, without writing
 * and reading a 16 GB file).
 */
final class SyntheticFq6Model implements ModelFile {

    /** meta-llama/Llama-2-70b config.json: 80 layers, 64 query / 8 key-value heads, untied head. */
    static final ModelShape LLAMA_2_70B = new ModelShape("llama-2-70b", 8192, 28672, 80, 64, 8, 128, 32000, 4096, 10000.0, null, false);

    private final Path path;
    private final Metadata metadata;
    private final Map<String, TensorEntry> tensors = new LinkedHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final TensorType fq6;
    private final boolean f16Linears;

    SyntheticFq6Model(ModelShape shape, TensorTypes types, long seed) {
        this(shape, types, seed, false, false);
    }

    /**
     * With {@code q8Head}, embedding and output head are Q8_0 (random codes, block scales 2^-5 / 127), as
     * {@code flexq quantize} writes them by default (its {@code --head q8_0}); otherwise F16.
     */
    SyntheticFq6Model(ModelShape shape, TensorTypes types, long seed, boolean q8Head, boolean f16Linears) {
        this.f16Linears = f16Linears;
        this.fq6 = types.require(Fq6Layout.TYPE_ID, "synthetic FQ6 model");
        this.path = Path.of("synthetic-fq6-" + shape.name());
        Map<String, Object> md = shape.metadata();
        md.put("general.name", "synthetic FQ6 " + shape.name() + " (random weights, seed " + seed + ")");
        this.metadata = new Metadata(path.toString(), md);
        int dim = shape.dim();
        try {
            if (q8Head) {
                q8("token_embd.weight", dim, shape.vocabSize(), seed, types);
            } else {
                f16("token_embd.weight", dim, shape.vocabSize(), seed);
            }
            for (int l = 0; l < shape.layers(); l++) {
                String p = "blk." + l + ".";
                norm(p + "attn_norm.weight", dim);
                linear(p + "attn_q.weight", dim, shape.qDim(), seed);
                linear(p + "attn_k.weight", dim, shape.kvDim(), seed);
                linear(p + "attn_v.weight", dim, shape.kvDim(), seed);
                linear(p + "attn_output.weight", shape.qDim(), dim, seed);
                norm(p + "ffn_norm.weight", dim);
                linear(p + "ffn_gate.weight", dim, shape.hiddenDim(), seed);
                linear(p + "ffn_up.weight", dim, shape.hiddenDim(), seed);
                linear(p + "ffn_down.weight", shape.hiddenDim(), dim, seed);
            }
            norm("output_norm.weight", dim);
            if (q8Head) {
                q8("output.weight", dim, shape.vocabSize(), seed + 1, types);
            } else {
                f16("output.weight", dim, shape.vocabSize(), seed + 1);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    private void linear(String name, int cols, int rows, long seed) {
        if (f16Linears) {
            f16(name, cols, rows, seed);
            return;
        }
        long codes = (long) rows * Fq6Layout.groups(cols) * Fq6Layout.GROUP_CODE_BYTES;
        MemorySegment data = arena.allocate(Fq6Layout.byteSize(rows, cols), 64);
        randomBytes(data.asSlice(0, codes), seed ^ name.hashCode());
        short scale = Float.floatToFloat16(0.02f / 31);
        for (long off = codes; off < data.byteSize(); off += 2) {
            data.set(ValueLayout.JAVA_SHORT_UNALIGNED, off, scale);
        }
        tensors.put(name, new TensorEntry(name, fq6, new long[]{cols, rows}, data));
    }

    private void f16(String name, int cols, int rows, long seed) {
        MemorySegment data = arena.allocate(2L * cols * rows, 64);
        randomBytes(data, seed ^ name.hashCode());
        // random bits -> values in +-[2^-6, 2^-5): keep sign and mantissa, set the exponent field to 9
        IntStream.range(0, (int) Math.ceilDiv(data.byteSize() / 2, 1 << 20)).parallel().forEach(c -> {
            long from = (long) c << 20, to = Math.min(data.byteSize() / 2, from + (1 << 20));
            for (long i = from; i < to; i++) {
                short h = data.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i);
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, (short) ((h & 0x83FF) | (9 << 10)));
            }
        });
        tensors.put(name, new TensorEntry(name, FloatTypes.F16, new long[]{cols, rows}, data));
    }

    private void q8(String name, int cols, int rows, long seed, TensorTypes types) {
        long blocks = (long) rows * (cols / Q8_0Type.BLOCK);
        MemorySegment data = arena.allocate(blocks * Q8_0Type.BLOCK_BYTES, 64);
        randomBytes(data, seed ^ name.hashCode());
        short scale = Float.floatToFloat16(0x1p-5f / 127);
        IntStream.range(0, (int) Math.ceilDiv(blocks, 1 << 16)).parallel().forEach(c -> {
            for (long b = (long) c << 16, end = Math.min(blocks, b + (1 << 16)); b < end; b++) {
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b * Q8_0Type.BLOCK_BYTES, scale);
            }
        });
        tensors.put(name, new TensorEntry(name, types.require(QuantTypes.Q8_0.id(), "synthetic Q8_0 head"), new long[]{cols, rows}, data));
    }

    private void norm(String name, int n) {
        MemorySegment data = arena.allocate(4L * n, 64);
        for (int i = 0; i < n; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
        }
        tensors.put(name, new TensorEntry(name, FloatTypes.F32, new long[]{n}, data));
    }

    /** Fills with splitmix64 output, 1 MiB chunks in parallel. */
    private static void randomBytes(MemorySegment s, long seed) {
        long longs = s.byteSize() / 8;
        IntStream.range(0, (int) Math.ceilDiv(longs, 1 << 17)).parallel().forEach(c -> {
            long from = (long) c << 17, to = Math.min(longs, from + (1 << 17));
            for (long i = from; i < to; i++) {
                long z = seed + i * 0x9E3779B97F4A7C15L;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                s.set(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i, z ^ (z >>> 31));
            }
        });
        for (long i = longs * 8; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
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
        return tensors;
    }

    @Override
    public void close() {
        arena.close();
    }
}
