package io.flexq.runtime.llama;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The weights of a Llama, by their GGUF names: matrices loaded through {@link Backends} (each on the backend of
 * highest priority that takes it), norm vectors dequantized to float, the embedding kept in its stored type and
 * dequantized one row per token. The output head is tied to token_embd.weight when output.weight is absent.
 *
 * @param blocks empty, and {@code output} null, when a device holds the model
 */
record LlamaWeights(TensorEntry tokenEmbedding, List<Block> blocks, float[] outputNorm, WeightMatrix output) implements AutoCloseable {

    /**
     * One decoder block. Names: attn_norm, attn_q/k/v/output (wq, wk, wv, wo), ffn_norm, ffn_gate (w1),
     * ffn_up (w3), ffn_down (w2).
     */
    record Block(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                 float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
        List<WeightMatrix> matrices() {
            return List.of(wq, wk, wv, wo, gate, up, down);
        }
    }

    static LlamaWeights load(ModelFile file, LlamaConfig c, Backends backends, boolean onHost, Consumer<String> log) {
        Map<String, Object> md = file.metadata().asMap();
        List<WeightMatrix> loaded = new ArrayList<>();
        try {
            TensorEntry embedding = file.tensor("token_embd.weight");
            expectShape(file, embedding, c.dim(), c.vocabSize());
            List<Block> blocks = new ArrayList<>();
            if (onHost) {
                for (int l = 0; l < c.layers(); l++) {
                    String p = "blk." + l + ".";
                    blocks.add(new Block(
                            file.vector(p + "attn_norm.weight", c.dim()),
                            matrix(file, p + "attn_q.weight", c.dim(), c.qDim(), backends, md, loaded),
                            matrix(file, p + "attn_k.weight", c.dim(), c.kvDim(), backends, md, loaded),
                            matrix(file, p + "attn_v.weight", c.dim(), c.kvDim(), backends, md, loaded),
                            matrix(file, p + "attn_output.weight", c.qDim(), c.dim(), backends, md, loaded),
                            file.vector(p + "ffn_norm.weight", c.dim()),
                            matrix(file, p + "ffn_gate.weight", c.dim(), c.hiddenDim(), backends, md, loaded),
                            matrix(file, p + "ffn_up.weight", c.dim(), c.hiddenDim(), backends, md, loaded),
                            matrix(file, p + "ffn_down.weight", c.hiddenDim(), c.dim(), backends, md, loaded)));
                }
            }
            float[] outputNorm = file.vector("output_norm.weight", c.dim());
            if (!onHost) {
                return new LlamaWeights(embedding, List.of(), outputNorm, null);
            }
            String headName = file.tensors().containsKey("output.weight") ? "output.weight" : "token_embd.weight";
            WeightMatrix output = matrix(file, headName, c.dim(), c.vocabSize(), backends, md, loaded);
            if (!headName.equals("output.weight")) {
                log.accept("output head tied to token_embd.weight");
            }
            log.accept(backends.summary());
            return new LlamaWeights(embedding, List.copyOf(blocks), outputNorm, output);
        } catch (RuntimeException e) {
            loaded.forEach(WeightMatrix::close);
            throw e;
        }
    }

    private static WeightMatrix matrix(ModelFile file, String name, int cols, int rows, Backends backends,
                                       Map<String, Object> md, List<WeightMatrix> loaded) {
        TensorEntry t = file.tensor(name);
        expectShape(file, t, cols, rows);
        WeightMatrix m;
        try {
            m = backends.load(new WeightSource(name, t.type(), rows, cols, t.data(), md));
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            // a backend that finds the tensor's bytes invalid (e.g. FQ6 padding codes that are not 0) is reading a bad
            // file, not failing itself: report it as such, naming the file and the tensor
            throw new ModelFormatException(file.path() + ": tensor " + name + " (" + t.type().name() + "): " + e.getMessage(), e);
        }
        loaded.add(m);
        return m;
    }

    private static void expectShape(ModelFile file, TensorEntry t, int cols, int rows) {
        if (t.cols() != cols || t.rows() != rows) {
            throw new ModelFormatException(file.path() + ": tensor " + t.name() + " has shape ne=" + java.util.Arrays.toString(t.ne())
                    + ", expected [" + cols + ", " + rows + "] from the model's metadata");
        }
    }

    /** Row {@code token} of the embedding, dequantized into dst[0, dim). */
    void embed(int token, float[] dst, int offset) {
        if (token < 0 || token >= tokenEmbedding.rows()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + tokenEmbedding.rows() + ")");
        }
        tokenEmbedding.type().dequantizeRow(tokenEmbedding.data(), token, (int) tokenEmbedding.cols(), dst, offset);
    }

    /** Every loaded matrix with its backend, for logs. */
    List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (Block b : blocks) {
            for (WeightMatrix m : b.matrices()) {
                lines.add(m.name() + ": " + m.describe());
            }
        }
        if (output != null) {
            lines.add(output.name() + ": " + output.describe());
        }
        return lines;
    }

    @Override
    public void close() {
        for (Block b : blocks) {
            b.matrices().forEach(WeightMatrix::close);
        }
        if (output != null) {
            output.close();
        }
    }
}
