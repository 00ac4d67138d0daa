package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The storage types the runtime itself knows, one row of the type table each (ggml's type-traits idea):
 * block size, bytes per block, decode (to float) and encode (from float). GGUF data is little-endian.
 *
 * <p>Every row is a whole number of blocks: GGUF cannot store a partial block, so a row length that is not
 * a multiple of {@link #blockSize()} is refused with an {@link IllegalArgumentException}.
 */
public sealed interface BuiltinType extends TensorType
        permits F32Type, F16Type, BF16Type, Q8_0Type, Q4_0Type, Q6_KType {

    ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes of one block of {@link #blockSize()} elements. */
    int blockBytes();

    @Override
    default long rowBytes(long cols) {
        if (cols < 0) {
            throw new IllegalArgumentException(name() + ": negative row length " + cols);
        }
        if (cols % blockSize() != 0) {
            throw new IllegalArgumentException(name() + ": row length " + cols + " is not a multiple of the block size "
                    + blockSize() + " (GGUF stores whole blocks only; keep such a tensor in F16/F32)");
        }
        return Math.multiplyExact(cols / blockSize(), (long) blockBytes());
    }

    /**
     * Decodes {@code count} elements (a multiple of {@link #blockSize()}) stored from byte {@code byteOffset}
     * of {@code data} into {@code dst[dstOffset ..)}. Scalar; the CPU backend has vector versions.
     */
    void decode(MemorySegment data, long byteOffset, int count, float[] dst, int dstOffset);

    /**
     * Encodes {@code count} floats {@code src[srcOffset ..)} (a multiple of {@link #blockSize()}) into
     * {@code rowBytes(count)} bytes of {@code dst} from byte {@code dstOffset}.
     *
     * @throws IllegalArgumentException for a NaN or infinite input, or a block whose scale overflows fp16
     */
    void encode(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset);

    /** Scans raw bits (see {@link NonFiniteScan}); block types check their fp16 scales only, codes being integers. */
    @Override
    default long firstNonFiniteRow(MemorySegment data, long cols, long rows) {
        long at = switch (this) {
            case F32Type t -> NonFiniteScan.float32(data);
            case F16Type t -> NonFiniteScan.half(data, NonFiniteScan.F16_EXPONENT);
            case BF16Type t -> NonFiniteScan.half(data, NonFiniteScan.BF16_EXPONENT);
            case Q8_0Type t -> NonFiniteScan.blockScales(data, t.blockBytes(), 0);   // {fp16 d; int8 q[32]}
            case Q4_0Type t -> NonFiniteScan.blockScales(data, t.blockBytes(), 0);   // {fp16 d; uint8 q[16]}
            case Q6_KType t -> NonFiniteScan.blockScales(data, t.blockBytes(), 208); // {ql[128]; qh[64]; int8 scales[16]; fp16 d}
        };
        long rowBytes = rowBytes(cols);
        return at < 0 ? -1 : rowBytes == 0 ? 0 : at / rowBytes;
    }

    @Override
    default void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
        long rowBytes = rowBytes(cols);
        decode(data, Math.multiplyExact(row, rowBytes), cols, dst, dstOffset);
    }

    /**
     * The fp16 scale of a block: {@code scale} rounded to fp16, then, if that fell below {@code atLeast} in
     * magnitude, stepped up one fp16 value at a time until it does not. The step matters only for fp16
     * subnormals (below 6.1e-5), whose coarse spacing can round a scale far enough down that the block's
     * largest element would need a code past the range; normal fp16 rounding (2^-11 relative) never triggers it.
     *
     * @throws IllegalArgumentException if the scale overflows fp16 (past 65504)
     */
    static short scaleToF16(float scale, float atLeast, String type, int block) {
        short h = Float.floatToFloat16(scale);
        while (Math.abs(Float.float16ToFloat(h)) < Math.abs(atLeast) && (h & 0x7FFF) < 0x7C00) {
            h++;
        }
        if (Float.isInfinite(Float.float16ToFloat(h))) {
            throw new IllegalArgumentException(type + ": block " + block + " needs scale " + scale
                    + ", beyond fp16's 65504; the input values are too large for this type");
        }
        return h;
    }

    static void requireFinite(float v, String type, int index) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(type + ": element " + index + " of the row is " + v + "; only finite values can be quantized");
        }
    }
}
