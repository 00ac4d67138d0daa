package io.flexq.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Finds NaN and infinity in raw little-endian float data by their bits: an IEEE value is non-finite exactly when
 * its exponent field is all ones (F32 0x7F800000, F16 0x7C00, BF16 0x7F80). Eight bytes at a time: with
 * {@code y = (x & E) ^ E} per lane (E = the exponent mask in every lane), a lane is non-finite iff it is zero in
 * y, and "some lane of y is zero" is the classic {@code (y - ONES) & ~y & HIGHS != 0} test, exact here because
 * no lane of y has its top bit set. About 1 ns per 8 bytes: the whole cost of checking a model at load is a
 * read of its bytes (measured in bench/results/hardening.md).
 */
final class NonFiniteScan {

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final int F16_EXPONENT = 0x7C00;
    static final int BF16_EXPONENT = 0x7F80;

    private NonFiniteScan() {
    }

    /** Byte offset of the first non-finite float32 in {@code data}, or -1. */
    static long float32(MemorySegment data) {
        final long e = 0x7F80_0000_7F80_0000L;
        long n = data.byteSize() & ~7L;
        for (long i = 0; i < n; i += 8) {
            long y = (data.get(I64, i) & e) ^ e;
            if (((y - 0x0000_0001_0000_0001L) & ~y & 0x8000_0000_8000_0000L) != 0) {
                return first32(data, i, i + 8);
            }
        }
        return first32(data, n, data.byteSize() & ~3L);
    }

    /** Byte offset of the first non-finite 16-bit float ({@code exponent} = F16 or BF16 mask) in {@code data}, or -1. */
    static long half(MemorySegment data, int exponent) {
        final long e = exponent * 0x0001_0001_0001_0001L;
        long n = data.byteSize() & ~7L;
        for (long i = 0; i < n; i += 8) {
            long y = (data.get(I64, i) & e) ^ e;
            if (((y - 0x0001_0001_0001_0001L) & ~y & 0x8000_8000_8000_8000L) != 0) {
                return first16(data, i, i + 8, exponent);
            }
        }
        return first16(data, n, data.byteSize() & ~1L, exponent);
    }

    /** Byte offset of the block whose fp16 scale (at {@code scaleAt} within each {@code blockBytes} block) is non-finite, or -1. */
    static long blockScales(MemorySegment data, int blockBytes, int scaleAt) {
        for (long b = 0; b + blockBytes <= data.byteSize(); b += blockBytes) {
            if ((data.get(I16, b + scaleAt) & F16_EXPONENT) == F16_EXPONENT) {
                return b;
            }
        }
        return -1;
    }

    private static long first32(MemorySegment data, long from, long to) {
        for (long i = from; i < to; i += 4) {
            if ((data.get(I32, i) & 0x7F80_0000) == 0x7F80_0000) {
                return i;
            }
        }
        return -1;
    }

    private static long first16(MemorySegment data, long from, long to, int exponent) {
        for (long i = from; i < to; i += 2) {
            if ((data.get(I16, i) & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }
}
