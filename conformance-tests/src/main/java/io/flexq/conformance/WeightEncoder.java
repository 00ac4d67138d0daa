package io.flexq.conformance;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Turns a float matrix into the bytes of one tensor type, so a backend can be given that type to load. */
@FunctionalInterface
public interface WeightEncoder {

    /**
     * Encodes {@code rows x cols} floats (row-major) into a segment of exactly the type's
     * {@code byteSize(cols, rows)} bytes allocated from {@code arena}.
     */
    MemorySegment encode(float[] w, int rows, int cols, Arena arena);
}
