package io.flexq.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

import java.lang.foreign.MemorySegment;

import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;

/**
 * F16 weights: each group of L halves is widened to fp32 in registers ({@link Simd#halfToFloat}) and FMAed, into four
 * accumulators in turn (groups 4k, 4k + 1, 4k + 2, 4k + 3; the groups after the last whole four into the first), summed
 * as {@code (s0 + s1) + (s2 + s3)}. One accumulator made every row one chain of dependent FMAs: at 4 cycles each, 8
 * bytes of weights a cycle, which held a decode step below the read bandwidth (8B shape, 2026-12-07 section of
 * bench/results/cpu-vs-llamacpp.md).
 */
record F16Kernel(int cols, long rowBytes) implements RowKernel {

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int i = 0;
        for (; i + 4 * L <= cols; i += 4 * L) {
            s0 = half(w, base, i).fma(Simd.x(x, xOff + 4L * i), s0);
            s1 = half(w, base, i + L).fma(Simd.x(x, xOff + 4L * (i + L)), s1);
            s2 = half(w, base, i + 2 * L).fma(Simd.x(x, xOff + 4L * (i + 2 * L)), s2);
            s3 = half(w, base, i + 3 * L).fma(Simd.x(x, xOff + 4L * (i + 3 * L)), s3);
        }
        for (; i + L <= cols; i += L) {
            s0 = half(w, base, i).fma(Simd.x(x, xOff + 4L * i), s0);
        }
        float r = Simd.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < cols; i++) {
            r += Float.float16ToFloat(w.get(Simd.I16_LE, base + 2L * i)) * x.get(Simd.X, xOff + 4L * i);
        }
        return r;
    }

    /** Columns [i, i + L) of the row at base, widened to fp32. */
    private static FloatVector half(MemorySegment w, long base, int i) {
        return Simd.halfToFloat(ShortVector.fromMemorySegment(Simd.S, w, base + 2L * i, Simd.LE));
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
