package io.flexq.runtime.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;

/** F32 weights: plain fp32 dot products straight from the (mapped) weight bytes. */
record F32Kernel(int cols, long rowBytes) implements RowKernel {

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= cols; i += 2 * L) {
            s0 = FloatVector.fromMemorySegment(F, w, base + 4L * i, Simd.LE).fma(Simd.x(x, xOff + 4L * i), s0);
            s1 = FloatVector.fromMemorySegment(F, w, base + 4L * (i + L), Simd.LE).fma(Simd.x(x, xOff + 4L * (i + L)), s1);
        }
        for (; i + L <= cols; i += L) {
            s0 = FloatVector.fromMemorySegment(F, w, base + 4L * i, Simd.LE).fma(Simd.x(x, xOff + 4L * i), s0);
        }
        float s = Simd.sum(s0.add(s1));
        for (; i < cols; i++) {
            s += w.get(Simd.F32_LE, base + 4L * i) * x.get(Simd.X, xOff + 4L * i);
        }
        return s;
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        MemorySegment.copy(w, Simd.F32_LE, row * rowBytes + 4L * c0, dst, d0, n);
    }

    @Override
    public int panelAlign() {
        return 1;
    }

    @Override
    public String kind() {
        return "vector f32";
    }
}
