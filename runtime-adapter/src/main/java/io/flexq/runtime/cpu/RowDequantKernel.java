package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;

/**
 * Any other registered type (a plugin's): whole rows through {@link TensorType#dequantizeRow}, then vector
 * fp32 dot products. The type's layout may not be row-contiguous, so only whole rows are decoded.
 */
record RowDequantKernel(TensorType type, int cols) implements RowKernel {

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        type.dequantizeRow(w, row, cols, scratch, 0);
        return Simd.dot(scratch, 0, x, xOff, cols);
    }

    @Override
    public int scratchFloats() {
        return cols;
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        if (c0 != 0 || n != cols) {
            throw new IllegalArgumentException(type.name() + ": rows decode whole, asked for columns " + c0 + ".." + (c0 + n));
        }
        type.dequantizeRow(w, row, cols, dst, d0);
    }

    @Override
    public int panelAlign() {
        return cols;
    }

    @Override
    public String kind() {
        return "dequantizeRow(" + type.name() + ") + vector f32";
    }
}
