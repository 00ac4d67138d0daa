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

    /** The 6-bit code (u - 32, in -32..31) of element 32k + l of a half, from the three byte vectors. */
    private static ByteVector code(ByteVector ql, ByteVector ql2, ByteVector qh, int k) {
        ByteVector low = switch (k) {
            case 0 -> ql.and((byte) 0x0F);
            case 1 -> ql2.and((byte) 0x0F);
            case 2 -> ql.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F);
            default -> ql2.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F);
        };
        ByteVector high = qh.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
        return low.or(high).sub((byte) 32);
    }

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        long base = row * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk + D));
            for (int h = 0; h < 2; h++) {
                long xh = xOff + 4L * (BLOCK * b + 128 * h);
                long sc = blk + SCALES + 8 * h;
                for (int l = 0; l < 32; l += BL) {
                    ByteVector ql = ByteVector.fromMemorySegment(B, w, blk + 64 * h + l, Simd.LE);
                    ByteVector ql2 = ByteVector.fromMemorySegment(B, w, blk + 64 * h + 32 + l, Simd.LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, blk + QH + 32 * h + l, Simd.LE);
                    for (int k = 0; k < 4; k++) {
                        ByteVector q = code(ql, ql2, qh, k);
                        for (int p = 0; p < PARTS; p++) {
                            int e = 32 * k + l + p * L;
                            float ds = d * w.get(ValueLayout.JAVA_BYTE, sc + e / 16);
                            acc = Simd.widen(q, p).mul(Simd.x(x, xh + 4L * e)).fma(FloatVector.broadcast(F, ds), acc);
                        }
                    }
                }
            }
        }
        return Simd.sum(acc);
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        long base = row * rowBytes + (long) (c0 / BLOCK) * BLOCK_BYTES;
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk + D));
            for (int h = 0; h < 2; h++) {
                int o = d0 + BLOCK * b + 128 * h;
                long sc = blk + SCALES + 8 * h;
                for (int l = 0; l < 32; l += BL) {
                    ByteVector ql = ByteVector.fromMemorySegment(B, w, blk + 64 * h + l, Simd.LE);
                    ByteVector ql2 = ByteVector.fromMemorySegment(B, w, blk + 64 * h + 32 + l, Simd.LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B, w, blk + QH + 32 * h + l, Simd.LE);
                    for (int k = 0; k < 4; k++) {
                        ByteVector q = code(ql, ql2, qh, k);
                        for (int p = 0; p < PARTS; p++) {
                            int e = 32 * k + l + p * L;
                            float ds = d * w.get(ValueLayout.JAVA_BYTE, sc + e / 16);
                            Simd.widen(q, p).mul(ds).intoArray(dst, o + e);
                        }
                    }
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
        return "vector q6_k -> f32";
    }
}
