package io.flexq.runtime.gguf;

import io.flexq.runtime.model.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A little-endian read position in a mapped GGUF file. Every read checks that its bytes lie inside the
 * file first, so a truncated or lying file ends in a {@link ModelFormatException} naming the file, the
 * offset and what was being read, never in an IndexOutOfBoundsException or an oversized allocation.
 */
final class GgufCursor {

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Java arrays cannot be longer than this (a little under Integer.MAX_VALUE on HotSpot). */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Path path;
    private final MemorySegment seg;
    private long pos;

    GgufCursor(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    Path path() {
        return path;
    }

    /** Claims {@code n} bytes for {@code what} and returns their offset; fails if the file ends first. */
    private long take(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw new ModelFormatException(path + ": truncated at offset " + pos + " reading " + what + ": needs "
                    + (n < 0 ? "an impossible " + Long.toUnsignedString(n) : String.valueOf(n)) + " bytes, "
                    + remaining() + " left in a file of " + seg.byteSize());
        }
        long at = pos;
        pos += n;
        return at;
    }

    int u8(String what) {
        return seg.get(ValueLayout.JAVA_BYTE, take(1, what)) & 0xff;
    }

    int i8(String what) {
        return seg.get(ValueLayout.JAVA_BYTE, take(1, what));
    }

    int u16(String what) {
        return seg.get(I16, take(2, what)) & 0xffff;
    }

    int i16(String what) {
        return seg.get(I16, take(2, what));
    }

    /** A uint32 widened to a non-negative long. */
    long u32(String what) {
        return seg.get(I32, take(4, what)) & 0xffffffffL;
    }

    int i32(String what) {
        return seg.get(I32, take(4, what));
    }

    /** The raw 64 bits (a uint64 above 2^63 - 1 comes back negative). */
    long i64(String what) {
        return seg.get(I64, take(8, what));
    }

    float f32(String what) {
        return seg.get(F32, take(4, what));
    }

    double f64(String what) {
        return seg.get(F64, take(8, what));
    }

    /** A uint64 count or size that must be at most {@code max}; {@code what} names it in the message. */
    long count(String what, long max, String why) {
        long at = pos;
        long n = i64(what);
        if (n < 0 || n > max) {
            throw new ModelFormatException(path + ": " + what + " at offset " + at + " is " + Long.toUnsignedString(n)
                    + ", more than " + why + " (" + max + "); the file is truncated or corrupt");
        }
        return n;
    }

    /** A GGUF string: uint64 byte length, then that many UTF-8 bytes (length checked before allocating). */
    String string(String what) {
        long len = count(what + " length", Math.min(remaining() - 8, MAX_ARRAY), "the bytes left in the file");
        if (len == 0) {
            return "";
        }
        long at = take(len, what);
        byte[] bytes = seg.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Bulk copies for the array readers; {@code n} elements of {@code elemBytes} were already bounded by the caller. */
    long claim(long n, long elemBytes, String what) {
        return take(Math.multiplyExact(n, elemBytes), what);
    }

    MemorySegment segment() {
        return seg;
    }

    void seek(long newPos) {
        if (newPos < 0 || newPos > seg.byteSize()) {
            throw new ModelFormatException(path + ": offset " + newPos + " is outside the file (" + seg.byteSize() + " bytes)");
        }
        pos = newPos;
    }
}
