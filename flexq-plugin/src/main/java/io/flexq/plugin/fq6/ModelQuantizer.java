package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightError;
import io.flexq.plugin.quant.WeightQuantization;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Turns a Llama model's linear weights into FQ6 and assembles the output model: every other tensor keeps its
 * type and bytes, every metadata key its value and type (except {@code general.file_type}, which names a
 * llama.cpp file type that no longer describes the file, and {@code general.alignment}, set to 64).
 * The source tensors may be of any type that can dequantize rows (F32, F16, BF16, Q8_0, Q6_K, ...): a Q6_K
 * import is dequantize-then-requantize, and its reported weight error is the error FQ6 adds to the Q6_K values.
 */
public final class ModelQuantizer {

    private ModelQuantizer() {
    }

    /** One quantized linear tensor: its FQ6 bytes and how far they are from the source values. */
    public record Layer(String name, TensorType sourceType, int rows, int cols, byte[] fq6, WeightError rtnError,
                        WeightError error, long clippedGroups, long totalGroups) {
    }

    /**
     * The linear tensors of {@code source}, checked: architecture llama, every block holds its seven linears,
     * 2-D, not already FQ6.
     */
    public static List<TensorEntry> linears(ModelFile source) {
        String arch = source.metadata().getString("general.architecture", "llama");
        if (!arch.equals("llama")) {
            throw new ModelFormatException(source.path() + ": architecture '" + arch + "' is not supported (FlexQ-J quantizes Llama models: "
                    + "general.architecture = llama)");
        }
        int blocks = source.metadata().getInt("llama.block_count");
        List<TensorEntry> out = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            for (String kind : LinearTensors.KINDS) {
                String name = "blk." + b + "." + kind + ".weight";
                TensorEntry t = source.tensor(name);
                if (t.ne().length != 2) {
                    throw new ModelFormatException(source.path() + ": tensor " + name + " has " + t.ne().length + " dimensions, expected a matrix");
                }
                if (t.type().id() == Fq6Layout.TYPE_ID) {
                    throw new ModelFormatException(source.path() + ": tensor " + name + " is already FQ6; quantize the original model instead");
                }
                out.add(t);
            }
        }
        return out;
    }

    /**
     * Refuses a non-finite weight in a linear tensor, the embedding or the head, naming tensor, row and column: GPTQ
     * runs the model before quantizing, and a NaN would surface there as a calibration failure instead.
     */
    public static void checkFinite(ModelFile source) {
        List<TensorEntry> all = new ArrayList<>(linears(source));
        all.add(source.tensor("token_embd.weight"));
        if (source.tensors().containsKey("output.weight")) {
            all.add(source.tensor("output.weight"));
        }
        for (TensorEntry t : all) {
            int rows = Math.toIntExact(t.rows());
            int cols = Math.toIntExact(t.cols());
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                t.type().dequantizeRow(t.data(), r, cols, row, 0);
                for (int k = 0; k < cols; k++) {
                    if (!Float.isFinite(row[k])) {
                        throw new ModelFormatException(source.path() + ": " + t.name() + ": weight at row " + r + ", column " + k + " is " + row[k]);
                    }
                }
            }
        }
    }

    /** Quantizes every linear tensor; {@code progress} gets (tensors done, name) after each. */
    public static List<Layer> quantize(ModelFile source, WeightQuantizer quantizer, BiConsumer<Integer, String> progress) {
        List<Layer> layers = new ArrayList<>();
        for (TensorEntry t : linears(source)) {
            int rows = Math.toIntExact(t.rows());
            int cols = Math.toIntExact(t.cols());
            WeightQuantization q;
            try {
                q = quantizer.quantize(t.name(), t.type(), t.data(), rows, cols);
            } catch (IllegalArgumentException e) {
                // a parallel stream rethrows a copy whose message is the original's toString(): report the original
                Throwable cause = e.getCause() instanceof IllegalArgumentException inner ? inner : e;
                throw new ModelFormatException(source.path() + ": " + cause.getMessage(), e);
            }
            layers.add(new Layer(t.name(), t.type(), rows, cols, q.weights().toFq6Bytes(), q.rtnError(), q.error(),
                    q.clippedGroups(), q.totalGroups()));
            progress.accept(layers.size(), t.name());
        }
        return layers;
    }

    /**
     * The output model: source metadata (minus general.file_type), then general.alignment = 64, then
     * {@code extra} (the flexq.* and tokenizer keys, in their order); source tensors in source order with the
     * linear ones replaced by FQ6.
     */
    public static QuantizedModel assemble(ModelFile source, Map<String, GgufType> sourceTypes, List<Layer> layers, TensorType fq6,
                                          Map<String, Object> extra, Map<String, GgufType> extraTypes, Path output) {
        return assemble(source, sourceTypes, layers, HeadQuantizer.Result.unchanged(source), fq6, extra, extraTypes, output);
    }

    /** As above, with the embedding and head as {@code head} has them (replaced tensors, a tied copy dropped). */
    public static QuantizedModel assemble(ModelFile source, Map<String, GgufType> sourceTypes, List<Layer> layers, HeadQuantizer.Result head,
                                          TensorType fq6, Map<String, Object> extra, Map<String, GgufType> extraTypes, Path output) {
        if (fq6.id() != Fq6Layout.TYPE_ID) {
            throw new IllegalArgumentException("expected the FQ6 tensor type (id " + Fq6Layout.TYPE_ID + "), got " + fq6.name() + " (id " + fq6.id() + ")");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, GgufType> types = new LinkedHashMap<>();
        for (var e : source.metadata().asMap().entrySet()) {
            String key = e.getKey();
            if (key.equals("general.file_type") || key.equals(Fq6Keys.ALIGNMENT_KEY) || extra.containsKey(key)) {
                continue;
            }
            values.put(key, e.getValue());
            types.put(key, sourceTypes.get(key));
        }
        values.put(Fq6Keys.ALIGNMENT_KEY, (long) Fq6Keys.ALIGNMENT);
        types.put(Fq6Keys.ALIGNMENT_KEY, GgufType.UINT32);
        values.putAll(extra);
        types.putAll(extraTypes);

        Map<String, Layer> byName = new LinkedHashMap<>();
        layers.forEach(l -> byName.put(l.name(), l));
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        for (TensorEntry t : source.tensors().values()) {
            if (head.dropped().contains(t.name())) {
                continue;
            }
            Layer l = byName.get(t.name());
            TensorEntry replaced = head.replaced().get(t.name());
            tensors.put(t.name(), replaced != null ? replaced : l == null ? t
                    : new TensorEntry(t.name(), fq6, new long[]{l.cols(), l.rows()}, MemorySegment.ofArray(l.fq6())));
        }
        return new QuantizedModel(output, "gguf", values, types, tensors);
    }
}
