package io.flexq.runtime.cpu;

import io.flexq.runtime.tensor.BuiltinType;

import java.lang.foreign.MemorySegment;

/**
 * A built-in type on a vector shape its fused kernel does not fit (e.g. 2 or 32+ float lanes): the type's own
 * scalar decoder, then vector fp32 dot products. Correct everywhere, slower.
 */
record DecodeKernel(BuiltinType type, int cols, long rowBytes) implements RowKernel {

    @Override
    public float dot(MemorySegment w, int row, MemorySegment x, long xOff, float[] scratch) {
        type.decode(w, row * rowBytes, cols, scratch, 0);
        return Simd.dot(scratch, 0, x, xOff, cols);
    }

    @Override
    public int scratchFloats() {
        return cols;
    }

    @Override
    public void decode(MemorySegment w, int row, int c0, int n, float[] dst, int d0) {
        type.decode(w, row * rowBytes + type.rowBytes(c0), n, dst, d0);
    }

    @Override
    public int panelAlign() {
        return type.blockSize();
    }

    @Override
    public String kind() {
        return "scalar " + type.name() + " decode + vector f32";
    }
}
