package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;

/** GGUF type 0: IEEE binary32, little-endian, 4 bytes per element. */
public final class F32Type implements BuiltinType {

    F32Type() {
    }

    @Override public int id() { return 0; }
    @Override public String name() { return "F32"; }
    @Override public int blockSize() { return 1; }
    @Override public int blockBytes() { return 4; }

    @Override
    public void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset) {
        MemorySegment.copy(data, F32_LE, byteOffset, dst, dstOffset, count);
    }

    @Override
    public void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        MemorySegment.copy(src, srcOffset, dst, F32_LE, dstOffset, count);
    }

    @Override public String toString() { return name(); }
}
