package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One FQ6 matrix in the native kernel's layout (W6A6 / W6A8 only), off-heap: rows in blocks of 16, each
 * (block, group) 32 steps of 64 bytes, a step being 4 columns of each of the 16 rows, codes stored + 32:
 * <pre>
 *   w [((b * groups + g) * 32 + k / 4) * 64 + j * 4 + k % 4] = wcode[16 b + j][128 g + k] + 32
 *   sw[(b * groups + g) * 16 + j]                              = sw[16 b + j][g]
 * </pre>
 * (the formulas of {@code fq6_cpu.c}; padding rows and columns are code 0, stored 32, and scale 0). One byte per
 * weight, as the Vector API layout of {@link Int6Kernels}; at level AVX512_VBMI the packed form of the same steps,
 * each row's 4 codes in 3 bytes (48-byte steps, 0.75 bytes a weight), widened by the kernel in registers. Outputs are
 * bit-identical to {@link IntegerReference#matmul}: the partials are exact int32 and the epilogue is the reference's.
 */
final class NativeInt6Kernels {

    static final int RB = 16;
    /** Row blocks of the AVX-512 one-token tile ({@code fq6_cpu.c}, nbDecode). */
    static final int DECODE_BLOCKS = 4;
    private static final int G = 128;
    /** Bytes of one step (4 columns of 16 rows): a byte per code, or packed, 3 bytes per row. */
    private static final int STEP = 64, PACKED_STEP = 48;

    final int rows;
    final int cols;
    final int groups;
    final int padded;
    /** Work units: blocks of 16 rows. */
    final int tasks;
    private final NativeFq6 lib;
    private final NativeFq6.Level level;
    private final MemorySegment w;
    private final MemorySegment sw;

    NativeInt6Kernels(FlexqWeights fw, NativeFq6 lib, NativeFq6.Level level, Arena arena) {
        if (!lib.available() || level.compareTo(lib.level()) > 0 || level == NativeFq6.Level.NONE) {
            throw new IllegalArgumentException("native FQ6 kernels at " + level + " cannot run here: " + lib.why());
        }
        this.lib = lib;
        this.level = level;
        this.rows = fw.rows();
        this.cols = fw.cols();
        this.groups = fw.groups();
        this.padded = fw.paddedCols();
        this.tasks = Math.ceilDiv(rows, RB);
        boolean packed = level == NativeFq6.Level.AVX512_VBMI;
        int step = packed ? PACKED_STEP : STEP;
        long bytes = Math.multiplyExact(Math.multiplyExact((long) tasks * groups, 32L), (long) step);
        byte[] codes = new byte[Math.toIntExact(bytes)];
        float[] scales = new float[tasks * groups * RB];
        for (int b = 0; b < tasks; b++) {
            for (int g = 0; g < groups; g++) {
                for (int j = 0; j < RB; j++) {
                    int r = b * RB + j;
                    for (int s = 0; s < 32; s++) {
                        int at = ((b * groups + g) * 32 + s) * step;
                        int word = 0;  // the 4 stored codes (code + 32, padding 32) of row j, columns 4s .. 4s + 3
                        for (int c = 0; c < 4; c++) {
                            int k = g * G + 4 * s + c;
                            int u = r < rows && k < cols ? fw.code(r, k) + 32 : 32;
                            if (packed) {
                                word |= u << (6 * c);
                            } else {
                                codes[at + j * 4 + c] = (byte) u;
                            }
                        }
                        if (packed) {
                            codes[at + 3 * j] = (byte) word;
                            codes[at + 3 * j + 1] = (byte) (word >>> 8);
                            codes[at + 3 * j + 2] = (byte) (word >>> 16);
                        }
                    }
                    scales[(b * groups + g) * RB + j] = r < rows ? fw.scale(r, g) : 0f;
                }
            }
        }
        this.w = arena.allocate(bytes, 64);
        MemorySegment.copy(codes, 0, w, ValueLayout.JAVA_BYTE, 0, codes.length);
        this.sw = arena.allocate(4L * scales.length, 64);
        MemorySegment.copy(scales, 0, sw, ValueLayout.JAVA_FLOAT, 0, scales.length);
    }

    long residentBytes() {
        return w.byteSize() + sw.byteSize();
    }

    NativeFq6.Level level() {
        return level;
    }

    /** The task (block) holding output row {@code r}. */
    int taskOf(int r) {
        return r / RB;
    }

    /**
     * Blocks {@code [from, to)} for every token of {@code a}; rows {@code [lo, hi)} of them go to
     * {@code y + 4 * (t * ystride + r - lo)}; {@code partials} (or null): P at {@code (t * rows + r) * groups + g}.
     */
    void gemm(QuantizedActivations a, int from, int to, MemorySegment y, long ystride, int lo, int hi, int[] partials) {
        gemm(a, 0, a.tokens(), from, to, y, ystride, lo, hi, partials);
    }

    /**
     * As above for tokens [t0, t1) of {@code a} only: token t's outputs at float {@code t * ystride} of y as before.
     * Every output is computed as in the whole call (the same tile kernels, exact partials), so splitting a prompt by
     * tokens changes no bit. Group partials (tests) only for the whole batch.
     */
    void gemm(QuantizedActivations a, int t0, int t1, int from, int to, MemorySegment y, long ystride, int lo, int hi, int[] partials) {
        if (a.cols() != cols) {
            throw new IllegalArgumentException("activations have " + a.cols() + " columns, matrix " + cols);
        }
        // the C side trusts its arguments: check every extent it touches here
        int all = a.tokens(), tokens = t1 - t0;
        long yOff = 4L * t0 * ystride;
        if (t0 < 0 || t1 > all || t0 > t1 || (partials != null && (t0 != 0 || t1 != all))
                || from < 0 || to > tasks || from > to || lo < 0 || hi > rows || lo > hi
                || (tokens > 0 && hi > lo && yOff + 4L * ((tokens - 1) * ystride + hi - lo) > y.byteSize())
                || (long) all * padded > a.codesArray().length || (long) all * groups > a.scalesArray().length
                || (partials != null && (long) all * rows * groups > partials.length)
                || (a.codeSumsArray() != null && (long) all * groups > a.codeSumsArray().length)) {
            throw new IllegalArgumentException("native FQ6 gemm: tokens [" + t0 + ", " + t1 + ") of " + all + ", blocks [" + from
                    + ", " + to + ") of " + tasks + ", rows [" + lo + ", " + hi + ") of " + rows + ", output of " + y.byteSize()
                    + " bytes with stride " + ystride + ": out of bounds");
        }
        if (tokens == 0) {
            return;
        }
        MemorySegment sums = a.codeSumsArray() == null ? MemorySegment.NULL
                : MemorySegment.ofArray(a.codeSumsArray()).asSlice(4L * t0 * groups);
        lib.gemm(w, sw, groups, from, to, MemorySegment.ofArray(a.codesArray()).asSlice((long) t0 * padded),
                MemorySegment.ofArray(a.scalesArray()).asSlice(4L * t0 * groups), sums, tokens, padded, y.asSlice(yOff), ystride,
                lo, hi, rows, partials == null ? MemorySegment.NULL : MemorySegment.ofArray(partials), level);
    }
}
