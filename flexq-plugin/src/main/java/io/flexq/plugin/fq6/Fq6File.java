package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * FQ6 files: GGUF v3, {@code general.alignment} 64, FQ6 tensors (type id 1030) for the quantized linear
 * weights, every other tensor as the source had it, and the {@link Fq6Keys flexq.* keys}.
 *
 * <p>Writing goes through the runtime's GGUF writer, which writes a temporary file beside the target and
 * renames it only when complete. Reading is a plain GGUF open (the FQ6 type must be in the registry) plus
 * checks of the flexq keys.
 */
public final class Fq6File implements AutoCloseable {

    private final GgufFile file;

    private Fq6File(GgufFile file) {
        this.file = file;
    }

    /** Writes {@code model} to {@code out} (atomically). */
    public static void write(QuantizedModel model, Path out) throws IOException {
        writer(model).write(out);
    }

    /** The exact size in bytes {@link #write} would give {@code model}'s file (for fitting a file to a byte budget). */
    public static long size(QuantizedModel model) {
        return writer(model).fileSize();
    }

    private static GgufWriter writer(QuantizedModel model) {
        GgufWriter w = new GgufWriter(Fq6Keys.ALIGNMENT);
        for (var e : model.metadata().asMap().entrySet()) {
            w.put(e.getKey(), model.types().get(e.getKey()), e.getValue());
        }
        for (TensorEntry t : model.tensors().values()) {
            w.addTensor(t);
        }
        return w;
    }

    /**
     * Opens an FQ6 file.
     *
     * @throws ModelFormatException if it is not a GGUF, has no flexq.format_version, or a newer one than this
     *                              reader knows, or a group size other than 128
     */
    public static Fq6File open(Path path, TensorTypes types) {
        GgufFile g = GgufFile.open(path, types);
        try {
            var md = g.metadata();
            if (!md.has(Fq6Keys.VERSION)) {
                throw new ModelFormatException(path + ": not an FQ6 file (no " + Fq6Keys.VERSION + " key)");
            }
            Fq6Header.check(md.asMap(), path.toString(), false);
            return new Fq6File(g);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    public GgufFile gguf() {
        return file;
    }

    /** Names of the FQ6 tensors, in file order. */
    public List<String> fq6Tensors() {
        List<String> out = new ArrayList<>();
        for (TensorEntry t : file.tensors().values()) {
            if (t.type().id() == Fq6Layout.TYPE_ID) {
                out.add(t.name());
            }
        }
        return out;
    }

    /** Codes and scales of an FQ6 tensor. */
    public FlexqWeights weights(String tensor) {
        TensorEntry t = file.tensor(tensor);
        if (t.type().id() != Fq6Layout.TYPE_ID) {
            throw new ModelFormatException(file.path() + ": tensor " + tensor + " is " + t.type().name() + ", not FQ6");
        }
        try {
            return FlexqWeights.readFq6(file.path() + ": " + tensor, t.data(), Math.toIntExact(t.rows()), Math.toIntExact(t.cols()));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    /** The activation mode stored for an FQ6 tensor. */
    public ActivationMode mode(String tensor) {
        String key = ActivationMode.metadataKey(tensor);
        try {
            return ActivationMode.ofBits(file.metadata().getLong(key), file.path() + ": " + key);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
