package io.flexq.runtime.safetensors;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;

import java.nio.file.Path;
import java.util.Map;

/** HF safetensors + config.json (placeholder until the loader lands). */
public final class SafetensorsFile implements ModelFile {

    private SafetensorsFile() {
    }

    public static SafetensorsFile open(Path model, TensorTypes types) {
        throw new ModelFormatException(model + ": the safetensors loader is not available yet");
    }

    @Override
    public Path path() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String format() {
        return "safetensors";
    }

    @Override
    public Metadata metadata() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
