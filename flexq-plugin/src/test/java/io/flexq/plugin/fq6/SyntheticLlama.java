package io.flexq.plugin.fq6;

import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.Quantizers;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A small random Llama written as a GGUF with the runtime's writer, for tests: weights N(0, 1/cols) so activations
 * stay of order 1, norms 1, embeddings N(0, 1). Matrices are row-major [rows][cols] (GGUF ne = [cols, rows]).
 * Tests can change weights before writing (e.g. plant activation outliers) and choose the storage type of the
 * linear weights (F32, or a built-in quantized type such as Q6_K).
 */
public final class SyntheticLlama {

    public final int dim, hidden, blocks, heads, kvHeads, vocab;
    public final long seed;
    /** Tensors by GGUF name, row-major floats, in write order. */
    public final Map<String, float[]> weights = new LinkedHashMap<>();
    public final Map<String, long[]> shapes = new LinkedHashMap<>();

    public SyntheticLlama(int dim, int hidden, int blocks, int heads, int kvHeads, int vocab, long seed) {
        this.dim = dim;
        this.hidden = hidden;
        this.blocks = blocks;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.vocab = vocab;
        this.seed = seed;
        Random rnd = new Random(seed);
        int kvDim = dim / heads * kvHeads;
        matrix("token_embd.weight", vocab, dim, rnd, 1.0);
        vector("output_norm.weight", dim);
        matrix("output.weight", vocab, dim, rnd, 1 / Math.sqrt(dim));
        for (int b = 0; b < blocks; b++) {
            String p = "blk." + b + ".";
            vector(p + "attn_norm.weight", dim);
            matrix(p + "attn_q.weight", dim, dim, rnd, 1 / Math.sqrt(dim));
            matrix(p + "attn_k.weight", kvDim, dim, rnd, 1 / Math.sqrt(dim));
            matrix(p + "attn_v.weight", kvDim, dim, rnd, 1 / Math.sqrt(dim));
            matrix(p + "attn_output.weight", dim, dim, rnd, 1 / Math.sqrt(dim));
            vector(p + "ffn_norm.weight", dim);
            matrix(p + "ffn_gate.weight", hidden, dim, rnd, 1 / Math.sqrt(dim));
            matrix(p + "ffn_up.weight", hidden, dim, rnd, 1 / Math.sqrt(dim));
            matrix(p + "ffn_down.weight", dim, hidden, rnd, 1 / Math.sqrt(hidden));
        }
    }

    private void matrix(String name, int rows, int cols, Random rnd, double std) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * std);
        }
        weights.put(name, w);
        shapes.put(name, new long[]{cols, rows});
    }

    private void vector(String name, int n) {
        float[] w = new float[n];
        java.util.Arrays.fill(w, 1f);
        weights.put(name, w);
        shapes.put(name, new long[]{n});
    }

    /** Multiplies row {@code r} of a matrix by {@code f}. */
    public void scaleRow(String name, int r, float f) {
        long cols = shapes.get(name)[0];
        float[] w = weights.get(name);
        for (int c = 0; c < cols; c++) {
            w[(int) (r * cols + c)] *= f;
        }
    }

    /** Multiplies column {@code c} of a matrix by {@code f}. */
    public void scaleColumn(String name, int c, float f) {
        int cols = (int) shapes.get(name)[0];
        float[] w = weights.get(name);
        for (int r = 0; r < w.length / cols; r++) {
            w[r * cols + c] *= f;
        }
    }

    /** Writes the model; linear weights stored as {@code linearType} (F32 or a type the tensor package can encode). */
    public Path write(Path file, TensorType linearType) throws IOException {
        GgufWriter w = new GgufWriter(32);
        w.put("general.architecture", GgufType.STRING, "llama");
        w.put("general.name", GgufType.STRING, "synthetic-" + seed);
        w.put("llama.context_length", GgufType.UINT32, 512L);
        w.put("llama.embedding_length", GgufType.UINT32, (long) dim);
        w.put("llama.feed_forward_length", GgufType.UINT32, (long) hidden);
        w.put("llama.block_count", GgufType.UINT32, (long) blocks);
        w.put("llama.attention.head_count", GgufType.UINT32, (long) heads);
        w.put("llama.attention.head_count_kv", GgufType.UINT32, (long) kvHeads);
        w.put("llama.rope.dimension_count", GgufType.UINT32, (long) (dim / heads));
        w.put("llama.attention.layer_norm_rms_epsilon", GgufType.FLOAT32, 1e-5f);
        for (var e : weights.entrySet()) {
            long[] ne = shapes.get(e.getKey());
            boolean linear = LinearTensors.isLinear(e.getKey());
            TensorType type = linear ? linearType : FloatTypes.F32;
            int cols = (int) ne[0];
            int rows = ne.length == 1 ? 1 : (int) ne[1];
            byte[] bytes = type.id() == FloatTypes.F32.id() ? f32(e.getValue()) : Quantizers.quantize(type, e.getValue(), rows, cols);
            w.addTensor(e.getKey(), type, ne, MemorySegment.ofArray(bytes));
        }
        w.write(file);
        return file;
    }

    private static byte[] f32(float[] v) {
        byte[] b = new byte[v.length * 4];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(v);
        return b;
    }
}
