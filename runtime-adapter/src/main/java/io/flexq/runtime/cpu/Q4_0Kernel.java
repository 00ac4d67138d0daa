package io.flexq.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flexq.runtime.cpu.Simd.B;
import static io.flexq.runtime.cpu.Simd.BL;
import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;
import static io.flexq.runtime.cpu.Simd.PARTS;

/**
 * Q4_0 weights (block: fp16 d, 16 bytes; byte j holds element j in its low nibble and element j + 16 in its
 * high nibble, value (nibble - 8) * d; see {@code Q4_0Type}). Each byte load yields codes for two runs of
 * elements: {@code (q & 0xF) - 8} for j.., {@code (q >>> 4) - 8} for j + 16...
 */
record Q4_0Kernel(int cols, long rowBytes) implements RowKernel {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 18;

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk));
            long xb = xOff + 4L * BLOCK * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 16; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, blk + 2 + j, Simd.LE);
                ByteVector lo = q.and(Simd.LOW_NIBBLE).sub(Simd.EIGHT);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and(Simd.LOW_NIBBLE).sub(Simd.EIGHT);
                for (int p = 0; p < PARTS; p++) {
                    sum = Simd.widen(lo, p).fma(Simd.x(x, xb + 4L * (j + p * L)), sum);
                    sum = Simd.widen(hi, p).fma(Simd.x(x, xb + 4L * (16 + j + p * L)), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(F, d), acc);
        }
        return Simd.sum(acc);
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        long base = row * rowBytes + (long) (c0 / BLOCK) * BLOCK_BYTES;
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk));
            int o = d0 + BLOCK * b;
            for (int j = 0; j < 16; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, blk + 2 + j, Simd.LE);
                ByteVector lo = q.and(Simd.LOW_NIBBLE).sub(Simd.EIGHT);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and(Simd.LOW_NIBBLE).sub(Simd.EIGHT);
                for (int p = 0; p < PARTS; p++) {
                    Simd.widen(lo, p).mul(d).intoArray(dst, o + j + p * L);
                    Simd.widen(hi, p).mul(d).intoArray(dst, o + 16 + j + p * L);
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
        return "vector q4_0 -> f32";
    }
}
