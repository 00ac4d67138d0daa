package io.flexq.plugin.fq6;

import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model held in memory in GGUF terms, ready to be written as an FQ6 file or run directly: metadata with the
 * GGUF type of every key, and tensors (FQ6 linear weights in heap segments, the other tensors as slices of the
 * source model's mapping, which must stay open while this is used).
 *
 * <p>It is a {@link ModelFile}, so the runtime's forward pass can load it as it loads a file from disk: the
 * sensitivity analysis runs the quantized model without writing it first.
 */
public final class QuantizedModel implements ModelFile {

    private final Path path;
    private final String format;
    private final Metadata metadata;
    private final Map<String, GgufType> types;
    private final Map<String, TensorEntry> tensors;

    /**
     * @param path     what this model is named in messages (the output path)
     * @param values   metadata values, in write order
     * @param types    the GGUF type of every key in {@code values} (element type for arrays)
     * @param tensors  tensors by name, in write order
     */
    public QuantizedModel(Path path, String format, Map<String, Object> values, Map<String, GgufType> types,
                          Map<String, TensorEntry> tensors) {
        for (String key : values.keySet()) {
            if (!types.containsKey(key)) {
                throw new IllegalArgumentException("metadata key '" + key + "' has no GGUF type");
            }
        }
        this.path = path;
        this.format = format;
        this.metadata = new Metadata(path.toString(), values);
        this.types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    public Map<String, GgufType> types() {
        return types;
    }

    /** The same tensors with other metadata (e.g. the final act_bits after the analysis). */
    public QuantizedModel withMetadata(Map<String, Object> values, Map<String, GgufType> types) {
        return new QuantizedModel(path, format, values, types, tensors);
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String format() {
        return format;
    }

    @Override
    public Metadata metadata() {
        return metadata;
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** Nothing to release: heap tensors are collected, slices belong to the source model. */
    @Override
    public void close() {
    }
}
