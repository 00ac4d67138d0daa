package io.flexq.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

import java.lang.foreign.MemorySegment;

import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;

/** F16 weights: each group of L halves is widened to fp32 in registers ({@link Simd#halfToFloat}) and FMAed. */
record F16Kernel(int cols, long rowBytes) implements RowKernel {

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= cols; i += L) {
            ShortVector h = ShortVector.fromMemorySegment(Simd.S, w, base + 2L * i, Simd.LE);
            s = Simd.halfToFloat(h).fma(Simd.x(x, xOff + 4L * i), s);
        }
        float r = Simd.sum(s);
        for (; i < cols; i++) {
            r += Float.float16ToFloat(w.get(Simd.I16_LE, base + 2L * i)) * x.get(Simd.X, xOff + 4L * i);
        }
        return r;
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        long base = row * rowBytes + 2L * c0;
        int i = 0;
        for (; i + L <= n; i += L) {
            Simd.halfToFloat(ShortVector.fromMemorySegment(Simd.S, w, base + 2L * i, Simd.LE)).intoArray(dst, d0 + i);
        }
        for (; i < n; i++) {
            dst[d0 + i] = Float.float16ToFloat(w.get(Simd.I16_LE, base + 2L * i));
        }
    }

    @Override
    public int panelAlign() {
        return 1;
    }

    @Override
    public String kind() {
        return "vector f16 -> f32";
    }
}
