package io.flexq.runtime.model;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a model file: GGUF name, type, shape as GGUF {@code ne} (ne[0] = columns, the
 * contiguous dimension; ne[1] = rows), and its bytes (a slice of the mapped file, exactly
 * {@code type.byteSize(cols, rows)} long).
 */
public record TensorEntry(String name, TensorType type, long[] ne, MemorySegment data) {

    public long cols() {
        return ne.length == 0 ? 1 : ne[0];
    }

    /** Product of ne[1..]: the number of rows of a matrix, 1 for a vector. */
    public long rows() {
        long r = 1;
        for (int i = 1; i < ne.length; i++) {
            r = Math.multiplyExact(r, ne[i]);
        }
        return r;
    }

    public long elementCount() {
        return Math.multiplyExact(cols(), rows());
    }

    @Override
    public String toString() {
        return name + " " + type.name() + " " + Arrays.toString(ne);
    }
}
