package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinType;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 2: a model whose weights hold a NaN or an infinity loaded and generated "⁇ ⁇ ⁇". Loading must
 * refuse it, naming the file, the tensor and the row; a clean model of the same shape loads.
 */
class NonFiniteWeightsTest {

    private static Llama load(SyntheticModel m) {
        return Llama.load(m, new Backends(List.of(new CpuBackend(ForkJoinPool.commonPool())), s -> { }), List.of(), s -> { });
    }

    private static void refused(SyntheticModel m, String tensor, long row) {
        var e = assertThrows(ModelFormatException.class, () -> load(m).close());
        String msg = e.getMessage();
        assertTrue(msg.contains(m.path().toString()) && msg.contains(tensor) && msg.contains("row " + row), msg);
    }

    @Test
    void nanOrInfInAnF32MatrixOrNormIsRefused() {
        try (SyntheticModel m = SyntheticModel.create(ModelShape.TINY, FloatTypes.F32, 5)) {
            assertDoesNotThrow(() -> load(m).close());
            MemorySegment w = m.tensor("blk.1.ffn_down.weight").data();
            long cols = m.tensor("blk.1.ffn_down.weight").cols();
            w.setAtIndex(BuiltinType.F32_LE, 3 * cols + 7, Float.NaN);
            refused(m, "blk.1.ffn_down.weight", 3);
        }
        try (SyntheticModel m = SyntheticModel.create(ModelShape.TINY, FloatTypes.F32, 5)) {
            m.tensor("output_norm.weight").data().setAtIndex(BuiltinType.F32_LE, 10, Float.POSITIVE_INFINITY);
            refused(m, "output_norm.weight", 0);
        }
    }

    @Test
    void infiniteBlockScaleInQ8_0IsRefused() {
        try (SyntheticModel m = SyntheticModel.create(ModelShape.TINY, QuantTypes.Q8_0, 6)) {
            TensorType t = m.tensor("blk.0.attn_k.weight").type();
            long rowBytes = t.rowBytes(m.tensor("blk.0.attn_k.weight").cols());
            m.tensor("blk.0.attn_k.weight").data().set(BuiltinType.I16_LE, 5 * rowBytes + 34, (short) 0x7C00);
            refused(m, "blk.0.attn_k.weight", 5);
        }
    }
}
