package io.flexq.conformance;

import io.flexq.plugin.fq6.Fq6Keys;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.gguf.GgufWriter;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.Quantizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Test fixture: a GGUF with every block linear ({@code blk.N.*} matrices) quantized to FQ6 by the default clipping
 * search and tagged {@code flexq.act_bits.<name>} = the given mode; embeddings, norms and the output head are
 * copied as they are (docs/FQ6.md sections 7 and 8).
 */
final class Fq6ModelFiles {

    private Fq6ModelFiles() {
    }

    static Path write(Path source, Path out, ActivationMode mode, TensorTypes types) {
        TensorType fq6 = types.require(Fq6Layout.TYPE_ID, "conformance: FQ6 model writer");
        try (GgufFile src = GgufFile.open(source, types)) {
            GgufWriter w = new GgufWriter();
            w.putAll(src);
            // the header every FQ6 reader checks (issue 11): format version and group size
            w.put(Fq6Keys.VERSION, GgufType.UINT32, (long) Fq6Keys.FORMAT_VERSION);
            w.put(Fq6Keys.GROUP_SIZE, GgufType.UINT32, (long) Fq6Layout.GROUP);
            for (TensorEntry t : src.tensors().values()) {
                if (t.name().startsWith("blk.") && t.ne().length == 2) {
                    int cols = Math.toIntExact(t.cols()), rows = Math.toIntExact(t.rows());
                    float[] f = Quantizers.dequantize(t.type(), t.data(), rows, cols);
                    byte[] b = WeightQuantizer.clipping().quantize(t.name(), f, rows, cols).weights().toFq6Bytes();
                    w.addTensor(t.name(), fq6, t.ne(), MemorySegment.ofArray(b));
                    w.put(ActivationMode.metadataKey(t.name()), GgufType.UINT32, (long) mode.bits());
                } else {
                    w.addTensor(t);
                }
            }
            w.write(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
    }
}
