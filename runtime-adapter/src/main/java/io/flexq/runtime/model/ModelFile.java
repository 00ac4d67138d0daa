package io.flexq.runtime.model;

import java.nio.file.Path;
import java.util.Map;

/**
 * A model file opened by one of the loaders (GGUF, llama2.c, safetensors), presented in GGUF terms:
 * GGUF metadata keys and GGUF tensor names ("token_embd.weight", "blk.N.attn_q.weight", ...,
 * "output.weight" absent when the classifier is tied). Closing it unmaps the file.
 */
public interface ModelFile extends AutoCloseable {

    Path path();

    /** "gguf", "llama2c", "safetensors". */
    String format();

    Metadata metadata();

    /** Tensors by name, in file order. */
    Map<String, TensorEntry> tensors();

    default TensorEntry tensor(String name) {
        TensorEntry t = tensors().get(name);
        if (t == null) {
            throw new ModelFormatException(path() + ": missing tensor '" + name + "'");
        }
        return t;
    }

    /** The 1-D tensor {@code name} (a norm's weights) as {@code n} floats; a tensor of another size is a format error. */
    default float[] vector(String name, int n) {
        TensorEntry t = tensor(name);
        if (t.elementCount() != n) {
            throw new ModelFormatException(path() + ": tensor " + name + " has " + t.elementCount() + " elements, expected " + n);
        }
        float[] v = new float[n];
        t.type().dequantizeRow(t.data(), 0, n, v, 0);
        return v;
    }

    @Override
    void close();
}
