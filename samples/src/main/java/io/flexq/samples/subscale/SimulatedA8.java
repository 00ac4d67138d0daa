package io.flexq.samples.subscale;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * W6A8 by simulation, for layouts no kernel runs: the weights are the dequantized fp32 values ({@code S * s_j * q},
 * exact), stored under the marker type {@link #TYPE}; each matmul first quantizes its input per token and 128-group
 * with FQ6's own activation quantizer ({@link ActivationQuantizer}, A8, docs/FQ6.md section 3) and multiplies the
 * dequantized activations ({@code code * sa}) with the runtime's fp32 kernel. The result equals the integer path
 * {@code sum_g (float) P * (S * sa)} up to fp32 rounding order (not bit for bit).
 */
public final class SimulatedA8 implements WeightBackend {

    /** fp32 data that the backend runs with A8 activations (experimental id, never written to a file). */
    public static final TensorType TYPE = marker(1099, "F32-simA8");

    /** The same with A6 activations (FQ6's A6 rule), for W6A6 rows. */
    public static final TensorType TYPE_A6 = marker(1098, "F32-simA6");

    private static TensorType marker(int id, String name) {
        return new TensorType() {
            @Override public int id() { return id; }
            @Override public String name() { return name; }
            @Override public int blockSize() { return 1; }
            @Override public long rowBytes(long cols) { return FloatTypes.F32.rowBytes(cols); }
            @Override public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
                FloatTypes.F32.dequantizeRow(data, row, cols, dst, dstOffset);
            }
        };
    }

    private final CpuBackend cpu;

    public SimulatedA8(CpuBackend cpu) {
        this.cpu = cpu;
    }

    @Override public String name() { return "simulated-a8"; }
    @Override public int priority() { return 1000; }
    @Override public Availability availability() { return Availability.yes("fp32 weights, A8 activations simulated"); }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return (type == TYPE || type == TYPE_A6) && cols % 128 == 0;
    }

    @Override
    public WeightMatrix load(WeightSource s) {
        ActivationMode mode = s.type() == TYPE_A6 ? ActivationMode.A6 : ActivationMode.A8;
        WeightMatrix inner = cpu.load(new WeightSource(s.name(), FloatTypes.F32, s.rows(), s.cols(), s.data(), s.modelMetadata()));
        return new WeightMatrix() {
            @Override public String name() { return s.name(); }
            @Override public int rows() { return s.rows(); }
            @Override public int cols() { return s.cols(); }
            @Override public String describe() { return "simulated W6" + mode + " over " + inner.describe(); }
            @Override public void close() { inner.close(); }

            @Override
            public void matmul(ActivationBatch in, ActivationBatch out) {
                WeightMatrix.checkShapes(this, in, out);
                QuantizedActivations q = ActivationQuantizer.quantize(in, mode);
                try (Arena arena = Arena.ofConfined()) {
                    ActivationBatch x = ActivationBatch.allocate(arena, in.tokens(), in.dim());
                    x.setTokens(in.tokens());
                    float[] row = new float[in.dim()];
                    for (int t = 0; t < in.tokens(); t++) {
                        for (int k = 0; k < row.length; k++) {
                            row[k] = q.code(t, k) * q.scale(t, k / 128);
                        }
                        x.setRow(t, row, 0);
                    }
                    x.changed();
                    inner.matmul(x, out);
                }
            }
        };
    }
}
