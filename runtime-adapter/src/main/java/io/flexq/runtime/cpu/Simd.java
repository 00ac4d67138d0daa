package io.flexq.runtime.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector shapes of the CPU kernels, all derived from the preferred float species (L lanes: 16 with AVX-512,
 * 8 with AVX2, 4 with NEON), and the fp32 inner loops every kernel ends in. Static finals, so C2 folds them.
 *
 * <p>Quantized codes are loaded as bytes: {@link #B} holds {@code max(L, 8)} bytes ({@link #BL}), widened to
 * floats in {@link #PARTS} = BL / L parts. Block kernels need the byte loads to tile a 16-byte group exactly,
 * i.e. L in {4, 8, 16} ({@link #BLOCKS_FUSED}); half-precision kernels need a short species of L lanes,
 * i.e. 4 &lt;= L &lt;= 32 ({@link #HALVES_FUSED}). Otherwise kernels decode with scalar code, then dot in fp32.
 */
final class Simd {

    private Simd() {
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final boolean BLOCKS_FUSED = L == 4 || L == 8 || L == 16;
    static final boolean HALVES_FUSED = L >= 4 && L <= 32;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> S = HALVES_FUSED ? VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L)) : null;
    static final VectorSpecies<Byte> B = BLOCKS_FUSED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * Math.max(L, 8))) : null;
    static final int BL = BLOCKS_FUSED ? B.length() : 0;
    static final int PARTS = BLOCKS_FUSED ? BL / L : 0;

    // Byte constants as ready vectors: C2 re-broadcasts a scalar operand (v.sub((byte) 32)) inside the loop,
    // which measured several times slower in the Q6_K kernel than these hoisted constants.
    static final ByteVector LOW_NIBBLE = BLOCKS_FUSED ? ByteVector.broadcast(B, (byte) 0x0F) : null;
    static final ByteVector BITS_4_5 = BLOCKS_FUSED ? ByteVector.broadcast(B, (byte) 0x30) : null;
    static final ByteVector EIGHT = BLOCKS_FUSED ? ByteVector.broadcast(B, (byte) 8) : null;
    static final ByteVector THIRTY_TWO = BLOCKS_FUSED ? ByteVector.broadcast(B, (byte) 32) : null;

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Activations are written with {@link ValueLayout#JAVA_FLOAT}, i.e. in native order. */
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat X = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Butterfly partners i ^ (L / 2), i ^ (L / 4), ...: lane i meets lane i ^ m at each step of {@link #sum}. */
    private static final VectorShuffle<Float> X1 = L >= 2 ? VectorShuffle.fromOp(F, i -> i ^ (L / 2)) : null;
    private static final VectorShuffle<Float> X2 = L >= 4 ? VectorShuffle.fromOp(F, i -> i ^ (L / 4)) : null;
    private static final VectorShuffle<Float> X3 = L >= 8 ? VectorShuffle.fromOp(F, i -> i ^ (L / 8)) : null;
    private static final VectorShuffle<Float> X4 = L >= 16 ? VectorShuffle.fromOp(F, i -> i ^ (L / 16)) : null;

    /**
     * The sum of the lanes in a fixed order: a butterfly of lanewise adds (lane i + lane i ^ L/2, then i ^ L/4,
     * ...). {@code reduceLanes(ADD)} leaves the order unspecified, and in practice the JIT-compiled and the
     * interpreted versions round differently, so a result would change with warm-up; this one does not.
     */
    static float sum(FloatVector v) {
        if (L > 16) {
            float s = 0;
            for (float f : v.toArray()) {
                s += f;
            }
            return s;
        }
        if (L >= 2) v = v.add(v.rearrange(X1));
        if (L >= 4) v = v.add(v.rearrange(X2));
        if (L >= 8) v = v.add(v.rearrange(X3));
        if (L >= 16) v = v.add(v.rearrange(X4));
        return v.lane(0);
    }

    static String describe() {
        return F + (BLOCKS_FUSED ? ", fused block kernels" : ", scalar block decode") + (HALVES_FUSED ? ", fused half kernels" : "");
    }

    static FloatVector x(MemorySegment x, long byteOffset) {
        return FloatVector.fromMemorySegment(F, x, byteOffset, NATIVE);
    }

    /** Byte lanes of a code vector, part p of {@link #PARTS}, widened (sign-extended) to floats. */
    static FloatVector widen(ByteVector q, int part) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, part);
    }

    /**
     * IEEE binary16 -> binary32 on L lanes. With v the half sign-extended to an int, {@code bits = (v << 13) &
     * 0x8FFFE000} is the sign in bit 31 and exponent and mantissa in bits 13..27, i.e. a float whose value is the
     * half's times 2^-112 (normal halves become normal floats, subnormal halves subnormal floats, both exactly), so
     * one multiply by 2^112 gives the value, exactly. Infinity and NaN (half exponent 31) instead get the float
     * exponent 255 by setting bits 28..30, keeping the mantissa. Eight vector operations; the earlier form
     * (rebias, then blends for subnormals and specials) took twelve and measured half the speed.
     */
    static FloatVector halfToFloat(ShortVector h) {
        IntVector v = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector bits = v.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
        FloatVector scaled = bits.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> special = bits.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000);
        return scaled.reinterpretAsInts().blend(bits.or(0x70000000), special).reinterpretAsFloats();
    }

    /** bfloat16 -> binary32: the 16 bits become the top half of the float (S2I sign-extends; the shift drops that). */
    static FloatVector bf16ToFloat(ShortVector h) {
        IntVector v = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** sum_i w[w0 + i] * x[i] for n floats of x from byte xOff. */
    static float dot(float[] w, int w0, MemorySegment x, long xOff, int n) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            s0 = FloatVector.fromArray(F, w, w0 + i).fma(x(x, xOff + 4L * i), s0);
            s1 = FloatVector.fromArray(F, w, w0 + i + L).fma(x(x, xOff + 4L * (i + L)), s1);
        }
        for (; i + L <= n; i += L) {
            s0 = FloatVector.fromArray(F, w, w0 + i).fma(x(x, xOff + 4L * i), s0);
        }
        float s = sum(s0.add(s1));
        for (; i < n; i++) {
            s += w[w0 + i] * x.get(X, xOff + 4L * i);
        }
        return s;
    }

    /**
     * Four rows of a decoded weight panel against two activation rows (x at xOff and xOff + xStride):
     * acc[a0 + j] += w_j . x_0 and acc[a0 + aStride + j] += w_j . x_1, j = 0..3. Six loads feed eight FMAs.
     */
    static void dot4x2(float[] w, int w0, int stride, MemorySegment x, long xOff, long xStride, int n, float[] acc, int a0, int aStride) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F), t3 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector xa = x(x, xOff + 4L * i);
            FloatVector xb = x(x, xOff + xStride + 4L * i);
            FloatVector w0v = FloatVector.fromArray(F, w, w0 + i);
            FloatVector w1v = FloatVector.fromArray(F, w, w0 + stride + i);
            FloatVector w2v = FloatVector.fromArray(F, w, w0 + 2 * stride + i);
            FloatVector w3v = FloatVector.fromArray(F, w, w0 + 3 * stride + i);
            s0 = w0v.fma(xa, s0);
            s1 = w1v.fma(xa, s1);
            s2 = w2v.fma(xa, s2);
            s3 = w3v.fma(xa, s3);
            t0 = w0v.fma(xb, t0);
            t1 = w1v.fma(xb, t1);
            t2 = w2v.fma(xb, t2);
            t3 = w3v.fma(xb, t3);
        }
        float r0 = sum(s0), r1 = sum(s1), r2 = sum(s2), r3 = sum(s3);
        float q0 = sum(t0), q1 = sum(t1), q2 = sum(t2), q3 = sum(t3);
        for (; i < n; i++) {
            float xa = x.get(X, xOff + 4L * i);
            float xb = x.get(X, xOff + xStride + 4L * i);
            r0 += w[w0 + i] * xa;
            r1 += w[w0 + stride + i] * xa;
            r2 += w[w0 + 2 * stride + i] * xa;
            r3 += w[w0 + 3 * stride + i] * xa;
            q0 += w[w0 + i] * xb;
            q1 += w[w0 + stride + i] * xb;
            q2 += w[w0 + 2 * stride + i] * xb;
            q3 += w[w0 + 3 * stride + i] * xb;
        }
        acc[a0] += r0;
        acc[a0 + 1] += r1;
        acc[a0 + 2] += r2;
        acc[a0 + 3] += r3;
        acc[a0 + aStride] += q0;
        acc[a0 + aStride + 1] += q1;
        acc[a0 + aStride + 2] += q2;
        acc[a0 + aStride + 3] += q3;
    }

    /**
     * Four rows of a decoded weight panel (rows at w0, w0 + stride, ...) against one activation row:
     * acc[a0 + j] += sum_i w[w0 + j * stride + i] * x[i], j = 0..3. One activation load feeds four FMAs.
     */
    static void dot4(float[] w, int w0, int stride, MemorySegment x, long xOff, int n, float[] acc, int a0) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F);
        FloatVector s3 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector xv = x(x, xOff + 4L * i);
            s0 = FloatVector.fromArray(F, w, w0 + i).fma(xv, s0);
            s1 = FloatVector.fromArray(F, w, w0 + stride + i).fma(xv, s1);
            s2 = FloatVector.fromArray(F, w, w0 + 2 * stride + i).fma(xv, s2);
            s3 = FloatVector.fromArray(F, w, w0 + 3 * stride + i).fma(xv, s3);
        }
        float r0 = sum(s0);
        float r1 = sum(s1);
        float r2 = sum(s2);
        float r3 = sum(s3);
        for (; i < n; i++) {
            float xi = x.get(X, xOff + 4L * i);
            r0 += w[w0 + i] * xi;
            r1 += w[w0 + stride + i] * xi;
            r2 += w[w0 + 2 * stride + i] * xi;
            r3 += w[w0 + 3 * stride + i] * xi;
        }
        acc[a0] += r0;
        acc[a0 + 1] += r1;
        acc[a0 + 2] += r2;
        acc[a0 + 3] += r3;
    }
}
