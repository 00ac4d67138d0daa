package io.flexq.jlama;

import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.function.Supplier;

/**
 * FQ6 weights made at load from the tensors Jlama reads (F32, F16 or BF16 safetensors, seen as floats):
 * the same quantizer as {@code flexq quantize} (per-group clipping search), so the codes equal those of an
 * FQ6 file made from the same model (up to the q/k row order, which row-wise quantization does not mix).
 */
final class QuantizeAtLoad implements Fq6Weights {

    private final Mode mode;
    private final Placement backends;
    private final TensorType fq6;
    private final WeightQuantizer quantizer = WeightQuantizer.clipping();

    QuantizeAtLoad(Mode mode, Placement backends, TensorType fq6) {
        this.mode = mode;
        this.backends = backends;
        this.fq6 = fq6;
    }

    @Override
    public WeightMatrix matrix(String hfName, String ggufName, int[] hfShape, Supplier<AbstractTensor> original) {
        AbstractTensor t = original.get();
        if (t.dims() != 2 || t.shape().isSparse()) {
            throw new IllegalArgumentException("flexq-jlama: " + hfName + " has shape " + t.shape() + "; FQ6 needs a whole 2-D matrix");
        }
        int rows = t.shape().first(), cols = t.shape().last();
        float[] w = floats(t, rows, cols);
        byte[] bytes = quantizer.quantize(ggufName, w, rows, cols).weights().toFq6Bytes();
        ActivationMode m = mode.atLoad(ggufName);
        return backends.load(new WeightSource(ggufName, fq6, rows, cols, MemorySegment.ofArray(bytes),
                Map.of(ActivationMode.metadataKey(ggufName), (long) m.bits())));
    }

    private static float[] floats(AbstractTensor t, int rows, int cols) {
        float[] w = new float[Math.multiplyExact(rows, cols)];
        if (t instanceof FloatBufferTensor) {
            MemorySegment.copy(t.getMemorySegment(), ValueLayout.JAVA_FLOAT, 0, w, 0, w.length);
        } else {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    w[r * cols + c] = t.get(r, c);
                }
            }
        }
        return w;
    }

    @Override
    public String describe() {
        return "quantized at load (clipping search), " + (mode == Mode.AUTO ? "auto = A8 on down_proj, A6 elsewhere" : "W6" + mode);
    }
}
