package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * Converts float matrices to and from the built-in storage types: the runtime's own Q8_0 / Q6_K models,
 * F16 / BF16 copies, synthetic benchmark weights. A matrix is {@code rows} rows of {@code cols} floats,
 * row-major, and its encoding is GGUF's: row after row, {@code type.rowBytes(cols)} bytes each.
 */
public final class Quantizers {

    private Quantizers() {
    }

    /** The GGUF bytes of {@code data} in {@code type}. */
    public static byte[] quantize(TensorType type, float[] data, int rows, int cols) {
        BuiltinType t = builtin(type);
        long size = t.byteSize(cols, rows);
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(t.name() + ": " + rows + " x " + cols + " needs " + size
                    + " bytes, more than a Java array holds; use quantize(..., MemorySegment)");
        }
        byte[] out = new byte[(int) size];
        quantize(t, data, rows, cols, MemorySegment.ofArray(out));
        return out;
    }

    /**
     * Writes the encoding into {@code dst} from byte 0. Rows are encoded in parallel (common pool) when the
     * matrix is large and {@code dst} is not confined to this thread: Q6_K's scale search costs a few hundred
     * operations per element.
     */
    public static void quantize(TensorType type, float[] data, int rows, int cols, MemorySegment dst) {
        BuiltinType t = builtin(type);
        long rowBytes = t.rowBytes(cols);
        if (rows < 0 || (long) rows * cols > data.length) {
            throw new IllegalArgumentException(t.name() + ": " + rows + " x " + cols + " does not fit the "
                    + data.length + " floats given");
        }
        if (dst.byteSize() < rowBytes * rows) {
            throw new IllegalArgumentException(t.name() + ": destination holds " + dst.byteSize()
                    + " bytes, " + rows + " x " + cols + " needs " + rowBytes * rows);
        }
        IntStream range = IntStream.range(0, rows);
        // a confined segment may only be written by its owner thread
        if ((long) rows * cols >= 1 << 20 && dst.isAccessibleBy(Thread.ofVirtual().unstarted(() -> { }))) {
            range = range.parallel();
        }
        range.forEach(r -> {
            try {
                t.encode(data, r * cols, cols, dst, r * rowBytes);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("row " + r + ": " + e.getMessage(), e);
            }
        });
    }

    /** Decodes a whole matrix stored in {@code type} (any registered type) to floats. */
    public static float[] dequantize(TensorType type, MemorySegment data, int rows, int cols) {
        long needed = type.byteSize(cols, rows);
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException(type.name() + ": " + data.byteSize() + " bytes given, "
                    + rows + " x " + cols + " needs " + needed);
        }
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            type.dequantizeRow(data, r, cols, out, r * cols);
        }
        return out;
    }

    private static BuiltinType builtin(TensorType type) {
        if (type instanceof BuiltinType b) {
            return b;
        }
        throw new IllegalArgumentException("no quantizer for tensor type " + type.name() + " (id " + type.id()
                + "); the runtime quantizes to " + BuiltinTypes.all().stream().map(TensorType::name).toList());
    }
}
