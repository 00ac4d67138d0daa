package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.Q4_0Type;
import io.flexq.runtime.tensor.Q6_KType;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One-token (decode) matmuls of Q4_0 and Q6_K weights with 8-bit activations, as llama.cpp runs them: the token is
 * quantized once per matmul input into the 32-blocks of {@link NativeQ8} (d_x = amax / 127, codes +-127), each
 * 32-block's products of codes are summed exactly in int32, and an fp32 epilogue scales them:
 * <pre>
 *   Q4_0, block j:   I_j = sum_i (n_i - 8) q_i;   acc[j % 16] = fma((float) I_j, d_w,j * d_x,j, acc[j % 16])
 *   Q6_K, super-block b, its 32-block m (16-blocks s = 2m, 2m + 1, sub-block scales sc_s):
 *                    T_m = sum_s sc_s * sum_{e in s} (u_e - 32) q_e;   acc[2m] = fma((float) T_m, d_b * d_x,8b+m, acc[2m])
 *   y = the butterfly lane sum of acc[0..15] (Simd.sum's order), blocks ascending
 * </pre>
 * Native ({@code src/main/c/gemv_q8.c}, AVX-512 VNNI) where the library has it; else the loops below, which are
 * those formulas written out and give the same bits (Int8GemvTest). The error against float64 is the activation
 * rounding (at most d_x / 2 per element) plus the fp32 epilogue's few roundings per block: llama.cpp's numerics, not
 * the bits of the fp32 kernels ({@link Q4_0Kernel}, {@link Q6_KKernel}).
 *
 * <p>Decode and prompt: a Q4_0 or Q6_K prompt ({@link NativeQ8}) sees the same activation codes and the same exact
 * block sums (I_j, T_m); only the order of its fp32 epilogue differs (one chain per row in block order there), so one
 * token alone and the same token inside a prompt agree to a few fp32 roundings of sum_j |I_j d_w,j d_x,j|
 * (Int8GemvTest checks that bound). Batches of 2-3 tokens still take the fp32 kernels.
 *
 * <p>{@value #PROPERTY}: {@code auto} (default: on where the 8-bit prompts are, i.e. the CPU has AVX-512 VNNI and
 * {@code -Dflexq.cpu.q8Prefill=f32} is not given, so decode and prompt switch together), {@code int8} (also
 * elsewhere, with the Java loops), {@code f32} (the fp32 kernels, bit for bit as before).
 */
final class Int8Gemv {

    static final String PROPERTY = "flexq.cpu.q8Decode";

    private static final boolean ON = decide(System.getProperty(PROPERTY, "auto"));
    private static final MethodHandle Q4 = handle("flexq_gemv_q4_0_q8");
    private static final MethodHandle Q6K = handle("flexq_gemv_q6_k_q8");

    private Int8Gemv() {
    }

    private static boolean decide(String mode) {
        return switch (mode.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> NativeQ8.available();
            case "int8" -> true;
            case "f32" -> false;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + mode + ": use auto, int8 or f32");
        };
    }

    /** Whether one-token matmuls of {@code type} run here (Q4_0 and Q6_K, when the property allows). */
    static boolean runs(TensorType type) {
        return ON && (type instanceof Q4_0Type || type instanceof Q6_KType);
    }

    /** Whether the native loop (not the Java one) runs {@code type}'s rows. */
    static boolean nativeFor(TensorType type) {
        return (type instanceof Q6_KType ? Q6K : Q4) != null;
    }

    private static MethodHandle handle(String name) {
        var find = NativeQ8.int8Symbols(Int8Gemv.class);
        if (find == null) {
            return null;
        }
        try {
            return Linker.nativeLinker().downcallHandle(find.findOrThrow(name),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                    Linker.Option.critical(true));
        } catch (Throwable e) {
            return null;
        }
    }

    /** {@code y[r]} for rows [r0, r1) of the Q4_0 or Q6_K rows in w and the one token of a, natively where possible. */
    static void gemv(TensorType type, MemorySegment w, long rowBytes, int cols, int r0, int r1, NativeQ8.Codes a, MemorySegment y) {
        gemv(type, w, rowBytes, cols, r0, r1, a, y, true);
    }

    /** The same with the Java loops only ({@code nativeLoop} false), for the tests. */
    static void gemv(TensorType type, MemorySegment w, long rowBytes, int cols, int r0, int r1, NativeQ8.Codes a, MemorySegment y,
                     boolean nativeLoop) {
        boolean q6k = type instanceof Q6_KType;
        if (r1 > r0 && (w.byteSize() < r1 * rowBytes || a.cols() != cols || a.tokens() < 1 || y.byteSize() < 4L * r1
                || cols % (q6k ? 256 : 32) != 0)) {
            throw new IllegalArgumentException("int8 gemv: rows [" + r0 + ", " + r1 + ") x " + cols + " do not fit");
        }
        if (r1 <= r0) {
            return;
        }
        MethodHandle h = q6k ? Q6K : Q4;
        if (nativeLoop && h != null) {
            int rc;
            try {
                rc = (int) h.invokeExact(w, rowBytes, cols, r0, r1, MemorySegment.ofArray(a.codes()), MemorySegment.ofArray(a.scales()), y);
            } catch (Throwable e) {
                throw new IllegalStateException("native int8 gemv failed", e);
            }
            if (rc != 0) {
                throw new IllegalStateException("native int8 gemv returned " + rc + " for rows [" + r0 + ", " + r1 + ") x " + cols);
            }
            return;
        }
        float[] acc = new float[16];
        for (int r = r0; r < r1; r++) {
            java.util.Arrays.fill(acc, 0f);
            long row = r * rowBytes;
            if (q6k) {
                q6kRow(w, row, cols, a, acc);
            } else {
                q4Row(w, row, cols, a, acc);
            }
            y.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * r, laneSum(acc));
        }
    }

    /** The activation code q in -127..127 of column i (stored q + 128). */
    private static int q(NativeQ8.Codes a, int i) {
        return (a.codes()[i] & 0xFF) - 128;
    }

    private static void q4Row(MemorySegment w, long row, int cols, NativeQ8.Codes a, float[] acc) {
        for (int j = 0; j < cols / 32; j++) {
            long blk = row + 18L * j;
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                int b = w.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
                sum += ((b & 0xF) - 8) * q(a, 32 * j + i) + (((b >> 4) & 0xF) - 8) * q(a, 32 * j + 16 + i);
            }
            float s = Float.float16ToFloat(w.get(Simd.I16_LE, blk)) * a.scales()[j];
            acc[j % 16] = Math.fma((float) sum, s, acc[j % 16]);
        }
    }

    /** Element e of a super-block: low 4 bits from ql[64h + 32(k & 1) + l] (high nibble for k >= 2), 2 from qh[32h + l] at 2k. */
    private static void q6kRow(MemorySegment w, long row, int cols, NativeQ8.Codes a, float[] acc) {
        for (int b = 0; b < cols / 256; b++) {
            long blk = row + 210L * b;
            float d = Float.float16ToFloat(w.get(Simd.I16_LE, blk + 208));
            for (int m = 0; m < 8; m++) {
                int t = 0;
                for (int e = 32 * m; e < 32 * m + 32; e++) {
                    int h = e / 128, k = e % 128 / 32, l = e % 32;
                    int ql = w.get(ValueLayout.JAVA_BYTE, blk + 64 * h + 32 * (k & 1) + l);
                    int qh = w.get(ValueLayout.JAVA_BYTE, blk + 128 + 32 * h + l);
                    int u = (k < 2 ? ql & 0xF : (ql >> 4) & 0xF) | ((qh >> (2 * k)) & 3) << 4;
                    int sc = w.get(ValueLayout.JAVA_BYTE, blk + 192 + e / 16);
                    t += sc * (u - 32) * q(a, 256 * b + e);
                }
                acc[2 * m] = Math.fma((float) t, d * a.scales()[8 * b + m], acc[2 * m]);
            }
        }
    }

    /** Lane i + lane i ^ 8, then ^ 4, ^ 2, ^ 1: the order of Simd.sum and gemv.c's lane_sum16. */
    private static float laneSum(float[] v) {
        for (int half = 8; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                v[i] = v[i] + v[i + half];
            }
        }
        return v[0];
    }
}
