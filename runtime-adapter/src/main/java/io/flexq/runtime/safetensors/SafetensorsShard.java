package io.flexq.runtime.safetensors;

import io.flexq.runtime.json.Json;
import io.flexq.runtime.model.MappedFile;
import io.flexq.runtime.model.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, mapped: {@code u64 N} (little-endian) | N bytes of JSON header | data.
 * The header maps each tensor name to {@code {"dtype": "F32"|"F16"|"BF16"|..., "shape": [d0, d1, ...],
 * "data_offsets": [begin, end]}} with offsets relative to the data start {@code 8 + N}, plus an optional
 * {@code "__metadata__"} object of strings. Shapes are PyTorch order (d0 = rows); the byte range must hold
 * exactly {@code prod(shape) x dtype size} bytes and lie inside the file.
 */
final class SafetensorsShard {

    /** The format's own limit on the JSON header (safetensors refuses larger ones as hostile). */
    static final long MAX_HEADER_BYTES = 100L << 20;

    /** A tensor as the file describes it (PyTorch names and shape order). */
    record Raw(String name, String dtype, long[] shape, MemorySegment data) {
    }

    private final MappedFile file;
    private final Map<String, Raw> tensors;

    private SafetensorsShard(MappedFile file, Map<String, Raw> tensors) {
        this.file = file;
        this.tensors = tensors;
    }

    MappedFile file() {
        return file;
    }

    Map<String, Raw> tensors() {
        return tensors;
    }

    static SafetensorsShard open(MappedFile file) {
        String path = file.path().toString();
        MemorySegment seg = file.segment();
        long size = seg.byteSize();
        if (size < 8) {
            throw new ModelFormatException(path + ": truncated safetensors file: " + size + " bytes, the header length alone needs 8");
        }
        long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 2 || n > MAX_HEADER_BYTES || n > size - 8) {
            throw new ModelFormatException(path + ": safetensors header length " + Long.toUnsignedString(n)
                    + " is impossible (file has " + size + " bytes; the format allows 2.." + MAX_HEADER_BYTES + ")"
                    + (n > size - 8 && n <= MAX_HEADER_BYTES ? "; truncated?" : "; not a safetensors file?"));
        }
        String json = new String(seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        Map<String, Object> header;
        try {
            header = Json.parseObject(json, path + " (safetensors header)");
        } catch (Json.JsonException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
        long dataStart = 8 + n;
        long dataBytes = size - dataStart;
        Map<String, Raw> out = new LinkedHashMap<>();
        for (var e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            String what = path + ": tensor '" + name + "'";
            if (!(e.getValue() instanceof Map<?, ?> info)) {
                throw new ModelFormatException(what + ": header entry is not an object");
            }
            if (!(info.get("dtype") instanceof String dtype)) {
                throw new ModelFormatException(what + ": missing or non-string \"dtype\"");
            }
            long[] shape = longs(info.get("shape"), what, "shape");
            long[] offsets = longs(info.get("data_offsets"), what, "data_offsets");
            if (offsets.length != 2) {
                throw new ModelFormatException(what + ": \"data_offsets\" must be [begin, end], has " + offsets.length + " numbers");
            }
            long begin = offsets[0], end = offsets[1];
            if (begin > end || end > dataBytes) {
                throw new ModelFormatException(what + ": data_offsets [" + begin + ", " + end + "] lie outside the "
                        + dataBytes + " data bytes of the file" + (end > dataBytes ? " (truncated?)" : ""));
            }
            long expected;
            try {
                long elems = 1;
                for (long d : shape) elems = Math.multiplyExact(elems, d);
                expected = Math.multiplyExact(elems, (long) dtypeBytes(dtype));
            } catch (ArithmeticException ex) {
                throw new ModelFormatException(what + ": shape " + java.util.Arrays.toString(shape) + " overflows 2^63 bytes");
            }
            if (expected != end - begin) {
                throw new ModelFormatException(what + ": " + dtype + " shape " + java.util.Arrays.toString(shape) + " needs "
                        + expected + " bytes but data_offsets [" + begin + ", " + end + "] give " + (end - begin));
            }
            out.put(name, new Raw(name, dtype, shape, seg.asSlice(dataStart + begin, end - begin)));
        }
        return new SafetensorsShard(file, out);
    }

    /** Bytes per element of a safetensors dtype; unknown dtypes get 1 so the size check still runs (the loader refuses them later by name). */
    static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            default -> 1;
        };
    }

    private static long[] longs(Object v, String what, String key) {
        if (!(v instanceof List<?> list)) {
            throw new ModelFormatException(what + ": missing or non-list \"" + key + "\"");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long l) || l < 0) {
                throw new ModelFormatException(what + ": \"" + key + "\" element " + i + " = " + list.get(i)
                        + " is not a non-negative integer");
            }
            out[i] = l;
        }
        return out;
    }
}
