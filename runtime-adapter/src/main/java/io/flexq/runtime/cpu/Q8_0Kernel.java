package io.flexq.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.flexq.runtime.cpu.Simd.B;
import static io.flexq.runtime.cpu.Simd.BL;
import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;
import static io.flexq.runtime.cpu.Simd.PARTS;

/**
 * Q8_0 weights (block: fp16 d, 32 int8 codes; see {@code Q8_0Type}). Per block, codes are widened to fp32 and
 * FMAed with the activations into a block sum, which is then scaled once: {@code acc += d * sum_j q_j x_j}, with two
 * accumulators (even blocks, odd blocks) summed at the end: one made the row a chain of dependent FMAs, one per 34
 * bytes, which held the 8B decode step under the read bandwidth (bench/results/cpu-vs-llamacpp.md, 2026-12-07).
 */
record Q8_0Kernel(int cols, long rowBytes) implements RowKernel {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        int blocks = cols / BLOCK;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            acc0 = block(w, base, b, x, xOff, acc0);
            acc1 = block(w, base, b + 1, x, xOff, acc1);
        }
        if (b < blocks) {
            acc0 = block(w, base, b, x, xOff, acc0);
        }
        return Simd.sum(acc0.add(acc1));
    }

    /** {@code acc + d * sum_j q_j x_j} over block b of the row at base. */
    private static FloatVector block(MemorySegment w, long base, int b, MemorySegment x, long xOff, FloatVector acc) {
        long blk = base + (long) b * BLOCK_BYTES;
        float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk));
        long xb = xOff + 4L * BLOCK * b;
        FloatVector sum = FloatVector.zero(F);
        for (int j = 0; j < BLOCK; j += BL) {
            ByteVector q = ByteVector.fromMemorySegment(B, w, blk + 2 + j, Simd.LE);
            for (int p = 0; p < PARTS; p++) {
                sum = Simd.widen(q, p).fma(Simd.x(x, xb + 4L * (j + p * L)), sum);
            }
        }
        return sum.fma(FloatVector.broadcast(F, d), acc);
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        long base = row * rowBytes + (long) (c0 / BLOCK) * BLOCK_BYTES;
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk));
            int o = d0 + BLOCK * b;
            for (int j = 0; j < BLOCK; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, blk + 2 + j, Simd.LE);
                for (int p = 0; p < PARTS; p++) {
                    Simd.widen(q, p).mul(d).intoArray(dst, o + j + p * L);
                }
            }
        }
    }

    @Override
    public int panelAlign() {
        return BLOCK;
    }

    @Override
    public String kind() {
        return "vector q8_0 -> f32";
    }
}
