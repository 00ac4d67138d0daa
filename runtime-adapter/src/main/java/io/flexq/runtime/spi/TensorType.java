package io.flexq.runtime.spi;

import java.lang.foreign.MemorySegment;

/**
 * One storage type of tensor data, as a row of a type table (ggml's type-traits idea):
 * identified by its GGUF type id <em>value</em>, never by an enum ordinal.
 *
 * <p>Shapes follow GGUF: a 2-D tensor has {@code cols} = ne[0] (the input dimension, contiguous)
 * and {@code rows} = ne[1]. Types that pack rows independently describe themselves with
 * {@link #rowBytes}; types with another layout (for example planar codes + scales) override
 * {@link #byteSize}.
 */
public interface TensorType {

    /** The GGUF type id value (F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, Q6_K = 14, BF16 = 30, plugin types >= 1024). */
    int id();

    /** Short name as llama.cpp prints it ("F32", "Q8_0", ...). */
    String name();

    /** Elements per quantization block (1 for plain float types). Rows must hold a whole number of blocks unless {@link #allowsPartialBlocks()}. */
    int blockSize();

    /** Whether a row length that is not a multiple of {@link #blockSize()} is allowed (padding contributes zero). */
    default boolean allowsPartialBlocks() {
        return false;
    }

    /**
     * Bytes taken by one row of {@code cols} elements.
     *
     * @throws IllegalArgumentException if {@code cols} is not a valid row length for this type
     * @throws ArithmeticException on overflow
     */
    long rowBytes(long cols);

    /** Bytes taken by a tensor of {@code rows} rows of {@code cols} elements; overflow throws {@link ArithmeticException}. */
    default long byteSize(long cols, long rows) {
        return Math.multiplyExact(rowBytes(cols), rows);
    }

    /**
     * Decodes row {@code row} of a tensor of {@code cols} columns stored in {@code data}
     * (the tensor's own bytes, starting at offset 0) into {@code dst[dstOffset .. dstOffset + cols)}.
     */
    void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset);

    /**
     * The first row (of {@code rows} rows of {@code cols} elements stored in {@code data}) that holds a NaN or an
     * infinity, or -1 when every value is finite. Loaders call it once per tensor so that corrupt weights are
     * refused instead of producing garbage. The default decodes every row; types override it with a scan of their
     * raw bits (for block types, only the block scales: integer codes are always finite).
     */
    default long firstNonFiniteRow(MemorySegment data, long cols, long rows) {
        if (cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name() + ": rows of " + cols + " columns are too long to decode");
        }
        float[] row = new float[(int) cols];
        for (long r = 0; r < rows; r++) {
            dequantizeRow(data, r, row.length, row, 0);
            for (float v : row) {
                if (!Float.isFinite(v)) {
                    return r;
                }
            }
        }
        return -1;
    }

    /**
     * Checks the keys of a file that holds tensors of this type (e.g. FQ6's format version and group size); called
     * once per type present whenever a GGUF is opened. Throws {@link io.flexq.runtime.model.ModelFormatException}
     * naming the file and the key. Built-in types need nothing.
     */
    default void checkFileMetadata(java.util.Map<String, Object> metadata, String file) {
    }
}
