package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BF16Type;
import io.flexq.runtime.tensor.BuiltinType;
import io.flexq.runtime.tensor.F16Type;
import io.flexq.runtime.tensor.F32Type;
import io.flexq.runtime.tensor.Q4_0Type;
import io.flexq.runtime.tensor.Q6_KType;
import io.flexq.runtime.tensor.Q8_0Type;

import java.lang.foreign.MemorySegment;

/**
 * The inner loops of one storage type for matrices of one row length: a fused dot product (decode in
 * registers, FMA against fp32 activations; used for decode steps, one token) and a panel decoder (to fp32,
 * used by the batched GEMM, which decodes each weight block once for every token of the batch).
 * Weight bytes are GGUF's: row r starts at byte {@code r * rowBytes}.
 */
sealed interface RowKernel
        permits F32Kernel, F16Kernel, BF16Kernel, Q8_0Kernel, Q4_0Kernel, Q6_KKernel, DecodeKernel, RowDequantKernel {

    /**
     * {@code sum_c W[row][c] * x[c]} for the matrix's cols, with x the floats (native order) from byte
     * {@code xOff} of {@code x}. {@code scratch} holds at least {@link #scratchFloats()} floats.
     */
    float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch);

    /** Floats of scratch space {@link #dot} needs (0 for kernels that decode in registers only). */
    default int scratchFloats() {
        return 0;
    }

    /** Decodes columns {@code [c0, c0 + n)} of {@code row} into {@code dst[d0 ..)}; c0 is a multiple of {@link #panelAlign()}. */
    void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0);

    /** Column panels must start at multiples of this (the block size); the row length if only whole rows decode. */
    int panelAlign();

    /** Short kernel name for {@code describe()}. */
    String kind();

    /** The vector kernel for a built-in type, a scalar-decode kernel where the vector shape does not fit, a row-dequantizing one for plugin types. */
    static RowKernel of(TensorType type, int cols) {
        long rowBytes = type.rowBytes(cols);
        return switch (type) {
            case F32Type t -> new F32Kernel(cols, rowBytes);
            case F16Type t when Simd.HALVES_FUSED -> new F16Kernel(cols, rowBytes);
            case BF16Type t when Simd.HALVES_FUSED -> new BF16Kernel(cols, rowBytes);
            case Q8_0Type t when Simd.BLOCKS_FUSED -> new Q8_0Kernel(cols, rowBytes);
            case Q4_0Type t when Simd.BLOCKS_FUSED -> new Q4_0Kernel(cols, rowBytes);
            case Q6_KType t when Simd.BLOCKS_FUSED -> new Q6_KKernel(cols, rowBytes);
            case BuiltinType t -> new DecodeKernel(t, cols, rowBytes);
            default -> new RowDequantKernel(type, cols);
        };
    }
}
