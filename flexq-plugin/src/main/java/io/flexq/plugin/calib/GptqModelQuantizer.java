package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.ModelQuantizer;
import io.flexq.plugin.quant.Gptq;
import io.flexq.plugin.quant.WeightQuantization;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/**
 * The GPTQ counterpart of {@link ModelQuantizer#quantize}: every linear tensor of the model quantized by {@link Gptq}
 * against the Hessian of its input collected by a {@link HessianCollector}. The output layers are ordinary FQ6.
 */
public final class GptqModelQuantizer {

    private GptqModelQuantizer() {
    }

    public static List<ModelQuantizer.Layer> quantize(ModelFile source, Gptq gptq, HessianCollector hessians, BiConsumer<Integer, String> progress) {
        return quantize(source, gptq, hessians, (key, h) -> h, progress);
    }

    /**
     * As above, each collected Hessian first passed through {@code transform} (input key, H) -> H': the Hessians of a
     * model whose linear inputs were rescaled after collection ({@link Smoothing.Result#transformHessian}).
     */
    public static List<ModelQuantizer.Layer> quantize(ModelFile source, Gptq gptq, HessianCollector hessians,
                                                      BiFunction<String, double[], double[]> transform, BiConsumer<Integer, String> progress) {
        List<ModelQuantizer.Layer> layers = new ArrayList<>();
        String lastKey = null;
        double[] h = null;
        for (TensorEntry t : ModelQuantizer.linears(source)) {
            int rows = Math.toIntExact(t.rows());
            int cols = Math.toIntExact(t.cols());
            HessianAccumulator acc = hessians.hessianFor(t.name()).orElseThrow(() -> new IllegalStateException(
                    source.path() + ": no calibration statistics for " + t.name() + " (was it loaded by the collector?)"));
            if (acc.tokens() == 0) {
                throw new IllegalStateException(source.path() + ": the input of " + t.name() + " saw no calibration token");
            }
            String key = HessianCollector.inputKey(t.name());
            if (!key.equals(lastKey)) {
                h = transform.apply(key, acc.hessian()); // q/k/v and gate/up are consecutive: build each H once
                lastKey = key;
            }
            if ((long) rows * cols > Integer.MAX_VALUE - 16) {
                throw new ModelFormatException(source.path() + ": " + t.name() + " is too large for GPTQ in memory");
            }
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                t.type().dequantizeRow(t.data(), r, cols, w, r * cols);
            }
            WeightQuantization q;
            try {
                q = gptq.quantize(t.name(), w, rows, cols, h);
            } catch (IllegalArgumentException e) {
                Throwable cause = e.getCause() instanceof IllegalArgumentException inner ? inner : e;
                throw new ModelFormatException(source.path() + ": " + cause.getMessage(), e);
            }
            layers.add(new ModelQuantizer.Layer(t.name(), t.type(), rows, cols, q.weights().toFq6Bytes(), q.rtnError(), q.error(),
                    q.clippedGroups(), q.totalGroups()));
            progress.accept(layers.size(), t.name());
        }
        return layers;
    }
}
