package io.flexq.runtime.gguf;

import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.model.Untrusted;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the GGUF layout (v2 and v3, little-endian):
 * <pre>
 *   u32 magic "GGUF" (0x46554747) | u32 version | u64 tensor_count | u64 kv_count
 *   kv_count x  { string key | u32 value_type | value }
 *   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
 *   zero padding up to a multiple of general.alignment (default 32)   = data start
 *   tensor data; each tensor at data start + offset, offset a multiple of the alignment
 * </pre>
 * string = u64 byte length + UTF-8 bytes; array = u32 element type + u64 count + elements
 * (an element of an array of arrays is itself type + count + elements).
 *
 * <p>Hostile-input rules: every count is checked against the bytes left before anything is allocated
 * (n values of a type need at least n x {@link GgufType#minBytes()} bytes), arrays nest at most
 * {@link #MAX_NESTING} deep, sizes use exact arithmetic, and every tensor's byte range must lie in the file.
 */
final class GgufReader {

    static final int MAGIC = 0x46554747;            // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;                  // GGML_MAX_DIMS
    static final int MAX_NESTING = 8;

    /** Everything parsed, handed to {@link GgufFile}. */
    record Parsed(int version, int alignment, long dataStart, Map<String, Object> metadata,
                  Map<String, GgufType> types, Map<String, TensorEntry> tensors) {
    }

    private record Info(String name, long[] ne, TensorType type, long offset, long bytes) {
    }

    private GgufReader() {
    }

    static Parsed parse(GgufCursor in, TensorTypes registry) {
        String file = in.path().toString();
        if (in.remaining() < 4) {
            throw new ModelFormatException(file + ": not a GGUF file: only " + in.remaining() + " bytes");
        }
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new ModelFormatException(file + ": not a GGUF file: magic is 0x" + Integer.toHexString(magic)
                    + " (bytes '" + printable(magic) + "'), expected 'GGUF'");
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (a big-endian GGUF; only little-endian files are supported)"
                    : version == 1 ? " (GGUF v1 used 32-bit counts; re-convert the model with a current llama.cpp)" : "";
            throw new ModelFormatException(file + ": unsupported GGUF version " + Integer.toUnsignedString(version)
                    + hint + "; versions 2 and 3 are read");
        }
        // a tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes, a kv pair 8 + 4 + 1
        long tensorCount = in.count("tensor count", in.remaining() / 24, "the tensor infos the file could hold");
        long kvCount = in.count("metadata key/value count", in.remaining() / 13, "the key/value pairs the file could hold");

        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, GgufType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long at = in.position();
            String key = in.string("metadata key #" + i);
            String what = "metadata key " + Untrusted.quote(key);
            if (metadata.containsKey(key)) {
                throw new ModelFormatException(file + ": " + what + " appears twice (second at offset " + at + ")");
            }
            GgufType type = valueType(in, what);
            if (type == GgufType.ARRAY) {
                GgufType elem = valueType(in, what + " (array element type)");
                metadata.put(key, array(in, elem, what, 1));
                types.put(key, elem);
            } else {
                metadata.put(key, scalar(in, type, what));
                types.put(key, type);
            }
        }

        int alignment = alignment(file, metadata.get("general.alignment"));

        List<Info> infos = new ArrayList<>();
        Map<String, Info> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            Info info = tensorInfo(in, registry, file, i, alignment);
            if (byName.putIfAbsent(info.name(), info) != null) {
                throw new ModelFormatException(file + ": tensor " + Untrusted.quote(info.name()) + " appears twice in the tensor table");
            }
            infos.add(info);
        }

        long dataStart = alignUp(in.position(), alignment);
        long size = in.segment().byteSize();
        if (dataStart > size && !infos.isEmpty()) {
            throw new ModelFormatException(file + ": truncated: the tensor data should start at offset " + dataStart
                    + " but the file has " + size + " bytes");
        }
        checkRanges(file, infos, dataStart, size);
        checkTiling(file, infos, dataStart, in.segment(), alignment);

        infos.stream().map(Info::type).distinct().forEach(t -> t.checkFileMetadata(metadata, file));

        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        MemorySegment seg = in.segment();
        for (Info info : infos) {
            tensors.put(info.name(), new TensorEntry(info.name(), info.type(), info.ne(),
                    seg.asSlice(dataStart + info.offset(), info.bytes())));
        }
        return new Parsed(version, alignment, dataStart, metadata, types, tensors);
    }

    private static GgufType valueType(GgufCursor in, String what) {
        long at = in.position();
        int id = in.i32(what + " type");
        GgufType t = GgufType.byId(id);
        if (t == null) {
            throw new ModelFormatException(in.path() + ": " + what + " has unknown value type id " + Integer.toUnsignedString(id)
                    + " at offset " + at + " (GGUF value types are 0..12)");
        }
        return t;
    }

    private static Object scalar(GgufCursor in, GgufType type, String what) {
        return switch (type) {
            case UINT8 -> in.u8(what);
            case INT8 -> in.i8(what);
            case UINT16 -> in.u16(what);
            case INT16 -> in.i16(what);
            case UINT32 -> in.u32(what);
            case INT32 -> in.i32(what);
            case FLOAT32 -> in.f32(what);
            case BOOL -> in.u8(what) != 0;
            case STRING -> in.string(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT64 -> in.f64(what);
            case ARRAY -> throw new IllegalStateException("arrays are read by array()");
        };
    }

    /** Reads {@code count + elements} of an array whose element type was already read. */
    private static Object array(GgufCursor in, GgufType elem, String what, int depth) {
        if (depth > MAX_NESTING) {
            throw new ModelFormatException(in.path() + ": " + what + " nests arrays more than " + MAX_NESTING
                    + " deep at offset " + in.position());
        }
        long max = Math.min(Math.max(in.remaining() - 8, 0) / elem.minBytes(), GgufCursor.MAX_ARRAY);
        int n = (int) in.count(what + " array count", max, "the " + elem + " values the rest of the file could hold");
        MemorySegment seg = in.segment();
        switch (elem) {
            case INT32 -> {
                long at = in.claim(n, 4, what);
                return seg.asSlice(at, 4L * n).toArray(GgufCursor.I32);
            }
            case FLOAT32 -> {
                long at = in.claim(n, 4, what);
                return seg.asSlice(at, 4L * n).toArray(GgufCursor.F32);
            }
            case INT64, UINT64 -> {
                long at = in.claim(n, 8, what);
                return seg.asSlice(at, 8L * n).toArray(GgufCursor.I64);
            }
            case FLOAT64 -> {
                long at = in.claim(n, 8, what);
                return seg.asSlice(at, 8L * n).toArray(GgufCursor.F64);
            }
            case UINT8, INT8, UINT16, INT16 -> {
                int[] out = new int[n];
                for (int i = 0; i < n; i++) out[i] = (Integer) scalar(in, elem, what);
                return out;
            }
            case UINT32 -> {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) out[i] = in.u32(what);
                return out;
            }
            case BOOL -> {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) out[i] = in.u8(what) != 0;
                return out;
            }
            case STRING -> {
                String[] out = new String[n];
                for (int i = 0; i < n; i++) out[i] = in.string(what + "[" + i + "]");
                return out;
            }
            case ARRAY -> {
                Object[] out = new Object[n];
                for (int i = 0; i < n; i++) {
                    String inner = what + "[" + i + "]";
                    out[i] = array(in, valueType(in, inner + " element type"), inner, depth + 1);
                }
                return out;
            }
        }
        throw new IllegalStateException("unreachable: " + elem);
    }

    private static int alignment(String file, Object value) {
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        long a;
        if (value instanceof Integer || value instanceof Long) {
            a = ((Number) value).longValue();
        } else {
            throw new ModelFormatException(file + ": general.alignment should be an unsigned integer but is a "
                    + value.getClass().getSimpleName());
        }
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw new ModelFormatException(file + ": general.alignment = " + a + " is not a power of two in [1, 2^30]");
        }
        return (int) a;
    }

    private static Info tensorInfo(GgufCursor in, TensorTypes registry, String file, long index, int alignment) {
        String name = in.string("name of tensor #" + index);
        String what = "tensor " + Untrusted.quote(name);
        long nDims = in.u32(what + " n_dims");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw new ModelFormatException(file + ": " + what + " has n_dims = " + nDims + " (must be 1.." + MAX_DIMS + ")");
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            ne[d] = in.i64(what + " ne[" + d + "]");
            if (ne[d] < 0) {
                throw new ModelFormatException(file + ": " + what + " has ne[" + d + "] = " + Long.toUnsignedString(ne[d])
                        + ", above 2^63 - 1; the file is corrupt");
            }
        }
        int typeId = in.i32(what + " type");
        TensorType type = registry.require(typeId, file + ": tensor " + Untrusted.escape(name, Untrusted.MAX_STRING));
        long offset = in.i64(what + " offset");
        if (offset < 0 || offset % alignment != 0) {
            throw new ModelFormatException(file + ": " + what + " has data offset " + Long.toUnsignedString(offset)
                    + ", which is not a multiple of the alignment " + alignment);
        }
        long bytes;
        try {
            long rows = 1;
            for (int d = 1; d < ne.length; d++) rows = Math.multiplyExact(rows, ne[d]);
            bytes = type.byteSize(ne[0], rows);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(file + ": " + what + " of type " + type.name() + " with ne "
                    + java.util.Arrays.toString(ne) + " has a byte size above 2^63 - 1; the file is corrupt");
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file + ": " + what + " of type " + type.name() + " with ne "
                    + java.util.Arrays.toString(ne) + " is not a valid shape: " + e.getMessage(), e);
        }
        return new Info(name, ne, type, offset, bytes);
    }

    /** Each tensor's [start, end) must lie inside the file, and tensors must not overlap. */
    private static void checkRanges(String file, List<Info> infos, long dataStart, long size) {
        for (Info t : infos) {
            long start = dataStart + t.offset();           // both < 2^63 and dataStart <= size: cannot overflow past the check below
            long end = start + t.bytes();
            if (start < dataStart || end < start || end > size) {
                throw new ModelFormatException(file + ": tensor '" + t.name() + "' (" + t.type().name() + " "
                        + java.util.Arrays.toString(t.ne()) + ", " + t.bytes() + " bytes at data offset " + t.offset()
                        + ") extends past the end of the file (" + size + " bytes, data starts at " + dataStart + "); truncated?");
            }
        }
        List<Info> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(Info::offset));
        for (int i = 1; i < sorted.size(); i++) {
            Info a = sorted.get(i - 1), b = sorted.get(i);
            if (a.offset() + a.bytes() > b.offset()) {
                throw new ModelFormatException(file + ": tensors '" + a.name() + "' and '" + b.name()
                        + "' overlap (data offsets " + a.offset() + "+" + a.bytes() + " and " + b.offset() + ")");
            }
        }
    }

    /**
     * GGUF writers (gguf-py, ggml's gguf_write, {@link GgufWriter}) lay the data section out one way: tensors in
     * table order, the first at offset 0, each next one where the previous ends rounded up to the alignment, zero
     * padding between them, and nothing after the last one but its padding. Holding files to that catches a
     * tensor whose type id was changed to one of another byte size (F32 data declared F16, Q8_0, ...): the data
     * still lies inside the file, but no longer tiles it. Costs one read of at most alignment - 1 bytes per tensor.
     */
    private static void checkTiling(String file, List<Info> infos, long dataStart, MemorySegment seg, int alignment) {
        if (infos.isEmpty()) {
            return;
        }
        long expected = 0;
        Info previous = null;
        for (Info t : infos) {
            if (t.offset() != expected) {
                String where = previous == null
                        ? "the first tensor must start at data offset 0"
                        : "the previous tensor '" + previous.name() + "' (" + previous.type().name() + ", " + previous.bytes()
                          + " bytes) ends at " + (previous.offset() + previous.bytes()) + ", so this one belongs at " + expected
                          + (t.offset() > expected ? ": a gap of " + (t.offset() - expected) + " bytes" : "");
                throw new ModelFormatException(file + ": tensor '" + t.name() + "' starts at data offset " + t.offset() + ", but "
                        + where + " (GGUF writers place tensors back to back in table order; was a tensor's type id changed?)");
            }
            if (previous != null) {
                requireZero(file, seg, dataStart + previous.offset() + previous.bytes(), dataStart + t.offset(), previous);
            }
            expected = alignUp(t.offset() + t.bytes(), alignment);
            previous = t;
        }
        long end = dataStart + previous.offset() + previous.bytes();
        long paddedEnd = dataStart + expected;
        if (seg.byteSize() > paddedEnd) {
            throw new ModelFormatException(file + ": " + (seg.byteSize() - end) + " bytes follow the end of the last tensor '"
                    + previous.name() + "' (" + previous.type().name() + ", " + previous.bytes() + " bytes, ending at file offset "
                    + end + "), more than its padding to the alignment " + alignment
                    + " (was a tensor's type id changed, or data appended?)");
        }
        requireZero(file, seg, end, seg.byteSize(), previous);
    }

    private static void requireZero(String file, MemorySegment seg, long from, long to, Info after) {
        for (long i = from; i < to; i++) {
            if (seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0) {
                throw new ModelFormatException(file + ": non-zero byte at file offset " + i + " in the padding after the end of tensor '"
                        + after.name() + "' (" + after.type().name() + ", " + after.bytes() + " bytes); GGUF writers pad with zeros"
                        + " (was a tensor's type id changed?)");
            }
        }
    }

    static long alignUp(long x, long alignment) {
        return Math.addExact(x, alignment - 1) & -alignment;
    }

    private static String printable(int magic) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xff;
            sb.append(c >= 32 && c < 127 ? (char) c : '.');
        }
        return sb.toString();
    }
}
