package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

/**
 * The built-in CPU backend, priority 0: the fallback for every type that can dequantize a row.
 * SEED VERSION: dequantizes each row and does a scalar dot product. To be replaced by Vector API kernels per type.
 */
public final class CpuBackend implements WeightBackend {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.yes("pure Java, always available");
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return true;
    }

    @Override
    public WeightMatrix load(WeightSource s) {
        return new WeightMatrix() {
            public String name() { return s.name(); }
            public int rows() { return s.rows(); }
            public int cols() { return s.cols(); }
            public String describe() { return "cpu " + s.type().name() + " (scalar seed)"; }
            public void matmul(ActivationBatch in, ActivationBatch out) {
                WeightMatrix.checkShapes(this, in, out);
                float[] w = new float[s.cols()];
                float[] x = new float[s.cols()];
                for (int r = 0; r < s.rows(); r++) {
                    s.type().dequantizeRow(s.data(), r, s.cols(), w, 0);
                    for (int t = 0; t < in.tokens(); t++) {
                        in.getRow(t, x, 0);
                        float acc = 0;
                        for (int c = 0; c < x.length; c++) acc += w[c] * x[c];
                        out.data().set(java.lang.foreign.ValueLayout.JAVA_FLOAT, out.offsetOf(t, r), acc);
                    }
                }
                out.changed();
            }
        };
    }
}
