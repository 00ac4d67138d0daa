package io.flexq.runtime.gguf;

import io.flexq.runtime.model.MappedFile;
import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/**
 * A GGUF v2/v3 file, memory-mapped: metadata decoded into Java values (see {@link GgufType} for the
 * mapping), tensors as zero-copy slices of the mapping with their type looked up by id value in the
 * registry the caller passes (so a plugin type such as FQ6 loads when its provider is registered, and
 * an unknown id fails naming the tensor). {@link #close()} unmaps the file; slices handed out before
 * then become inaccessible (IllegalStateException), never dangling.
 */
public final class GgufFile implements ModelFile {

    private final MappedFile file;
    private final GgufReader.Parsed parsed;
    private final Metadata metadata;
    private final Map<String, TensorEntry> tensors;

    private GgufFile(MappedFile file, GgufReader.Parsed parsed) {
        this.file = file;
        this.parsed = parsed;
        this.metadata = new Metadata(file.path().toString(), parsed.metadata());
        this.tensors = Collections.unmodifiableMap(parsed.tensors());
    }

    /**
     * Maps and parses {@code path}.
     *
     * @throws ModelFormatException if the file is not a well-formed GGUF (message names the file and what is wrong)
     * @throws TensorTypes.UnsupportedTensorTypeException if a tensor's type id is not in {@code types}
     */
    public static GgufFile open(Path path, TensorTypes types) {
        MappedFile file = MappedFile.open(path);
        try {
            return new GgufFile(file, GgufReader.parse(new GgufCursor(path, file.segment()), types));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** 2 or 3. */
    public int version() {
        return parsed.version();
    }

    /** general.alignment, or 32 when the file does not set it. */
    public int alignment() {
        return parsed.alignment();
    }

    /** File offset where the tensor data section starts (tensor offsets are relative to it). */
    public long dataStart() {
        return parsed.dataStart();
    }

    /**
     * The GGUF type a metadata key was stored with: the value's type for scalars, the element type for
     * arrays ({@link GgufType#ARRAY} for arrays of arrays). With the value this is what
     * {@link GgufWriter#put(String, GgufType, Object)} needs to write the key back unchanged.
     */
    public GgufType typeOf(String key) {
        GgufType t = parsed.types().get(key);
        if (t == null) {
            throw new ModelFormatException(file.path() + ": missing metadata key '" + key + "'");
        }
        return t;
    }

    /** Every key's stored type, in file order (see {@link #typeOf}). */
    public Map<String, GgufType> types() {
        return Collections.unmodifiableMap(parsed.types());
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String format() {
        return "gguf";
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
