package io.flexq.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.flexq.runtime.cpu.Simd.B;
import static io.flexq.runtime.cpu.Simd.BL;
import static io.flexq.runtime.cpu.Simd.F;
import static io.flexq.runtime.cpu.Simd.L;
import static io.flexq.runtime.cpu.Simd.PARTS;

/**
 * Q6_K weights (256-element super-blocks of 210 bytes: ql[128], qh[64], int8 scales[16], fp16 d; see
 * {@code Q6_KType} for the index formulas). In half h, one byte load at l from ql, ql + 32 and qh gives the
 * codes of elements 32k + l (k = 0..3): low nibble / high nibble of the two ql runs, plus 2 bits of qh at
 * shift 2k. A load covers at most 16 elements, all under one sub-block scale d * scales[e / 16].
 */
record Q6_KKernel(int cols, long rowBytes) implements RowKernel {

    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    // Vector code must be fully inlined by C2 to keep vectors in registers, but C2 also stops inlining once a
    // method's IR grows past its node budget (NodeCountInliningCutoff), which a whole super-block loop does.
    // So the work is cut where no vector crosses a call: one method per 128-element half.
    //
    // The one-token dot decodes a super-block into an L1-resident scratch and then runs an fp32 dot: measured
    // (AVX-512, 1024 x 2048) about twice as fast as applying the 16 sub-block scales inside a fused loop.
    //
    // Codes of one byte load at l (elements 32k + l of the half): with the two high bits of element k at
    // bits 2k..2k+1 of qh, (qh << 4) & 0x30, (qh << 2) & 0x30, qh & 0x30, (qh >>> 2) & 0x30 put them at bits 4..5.

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        float sum = 0;
        for (int b = 0; b < cols / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk + D));
            decodeHalf(w, blk, 0, d, scratch, 0);
            decodeHalf(w, blk, 1, d, scratch, 128);
            sum += Simd.dot(scratch, 0, x, xOff + 4L * BLOCK * b, BLOCK);
        }
        return sum;
    }

    @Override
    public int scratchFloats() {
        return BLOCK;
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        long base = row * rowBytes + (long) (c0 / BLOCK) * BLOCK_BYTES;
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk + D));
            decodeHalf(w, blk, 0, d, dst, d0 + BLOCK * b);
            decodeHalf(w, blk, 1, d, dst, d0 + BLOCK * b + 128);
        }
    }

    /** Half h of a super-block to floats, element value (d * scales[e / 16]) * (u_e - 32), as ggml computes it. */
    private static void decodeHalf(MemorySegment w, long blk, int h, float d, float[] dst, int o) {
        long sc = blk + SCALES + 8 * h;
        for (int l = 0; l < 32; l += BL) {
            ByteVector ql = ByteVector.fromMemorySegment(B, w, blk + 64 * h + l, Simd.LE);
            ByteVector ql2 = ByteVector.fromMemorySegment(B, w, blk + 64 * h + 32 + l, Simd.LE);
            ByteVector qh = ByteVector.fromMemorySegment(B, w, blk + QH + 32 * h + l, Simd.LE);
            ByteVector q0 = ql.and(Simd.LOW_NIBBLE).or(qh.lanewise(VectorOperators.LSHL, 4).and(Simd.BITS_4_5)).sub(Simd.THIRTY_TWO);
            ByteVector q1 = ql2.and(Simd.LOW_NIBBLE).or(qh.lanewise(VectorOperators.LSHL, 2).and(Simd.BITS_4_5)).sub(Simd.THIRTY_TWO);
            ByteVector q2 = ql.lanewise(VectorOperators.LSHR, 4).and(Simd.LOW_NIBBLE).or(qh.and(Simd.BITS_4_5)).sub(Simd.THIRTY_TWO);
            ByteVector q3 = ql2.lanewise(VectorOperators.LSHR, 4).and(Simd.LOW_NIBBLE)
                    .or(qh.lanewise(VectorOperators.LSHR, 2).and(Simd.BITS_4_5)).sub(Simd.THIRTY_TWO);
            for (int p = 0; p < PARTS; p++) {
                int e = l + p * L;
                Simd.widen(q0, p).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + e / 16)).intoArray(dst, o + e);
                Simd.widen(q1, p).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 2 + e / 16)).intoArray(dst, o + 32 + e);
                Simd.widen(q2, p).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 4 + e / 16)).intoArray(dst, o + 64 + e);
                Simd.widen(q3, p).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 6 + e / 16)).intoArray(dst, o + 96 + e);
            }
        }
    }

    @Override
    public int panelAlign() {
        return BLOCK;
    }

    @Override
    public String kind() {
        return "vector q6_k -> f32";
    }
}
