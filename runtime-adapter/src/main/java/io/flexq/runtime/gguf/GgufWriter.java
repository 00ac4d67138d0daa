package io.flexq.runtime.gguf;

import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Writes a GGUF v3 file (layout in {@link GgufReader}): metadata of any GGUF value type, then tensors of
 * any registered {@link TensorType} given as bytes, each tensor's data at an offset that is a multiple of
 * the alignment (default 32; {@code general.alignment} is written when it differs) and zero-padded to it.
 * Tensors are written in the order they were added.
 *
 * <p>The file is first written as {@code OUT.tmp-PID-RANDOM} in the same directory, forced to disk, then renamed
 * over {@code OUT} atomically: a failure (an exception from a tensor supplier, a full disk) never leaves a
 * half-written file under the user's name, and the temporary file is removed (on SIGTERM/Ctrl-C by a shutdown
 * hook, after SIGKILL by the next write to the same output; see {@link TemporaryOutput}).
 *
 * <p>Metadata keys keep the order of their first {@code put}. llama.cpp checks value types exactly (its
 * {@code llama.block_count} must be UINT32, not INT32), so give the type explicitly with
 * {@link #put(String, GgufType, Object)}, or copy keys from a read file with {@link #putAll(GgufFile)}.
 */
public final class GgufWriter {

    /** llama.cpp keeps tensor names in a 64-byte buffer with the terminating NUL. */
    static final int MAX_NAME_BYTES = 63;

    /**
     * An array whose element type is given explicitly, for elements of an array of arrays
     * (a plain Java array there takes its default type: int[] INT32, long[] INT64, ...).
     */
    public record TypedArray(GgufType elementType, Object values) {
        public TypedArray {
            Objects.requireNonNull(elementType);
            Objects.requireNonNull(values);
        }
    }

    private record Kv(GgufType type, Object value) {
    }

    private record Pending(String name, TensorType type, long[] ne, long bytes, Supplier<MemorySegment> data) {
    }

    private final int alignment;
    private final Map<String, Kv> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new LinkedHashSet<>();

    public GgufWriter() {
        this(GgufReader.DEFAULT_ALIGNMENT);
    }

    /** @param alignment tensor data alignment in bytes, a power of two (FlexQ uses 64) */
    public GgufWriter(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1 || alignment > (1 << 30)) {
            throw new IllegalArgumentException("GGUF alignment must be a power of two in [1, 2^30], got " + alignment);
        }
        this.alignment = alignment;
    }

    public int alignment() {
        return alignment;
    }

    /**
     * Adds a key with its Java value's default GGUF type: Integer INT32, Long INT64, Float FLOAT32,
     * Double FLOAT64, Boolean BOOL, String STRING; arrays of those (int[], long[], float[], double[],
     * boolean[], String[]) as arrays of the same; Object[] as an array of arrays.
     */
    public GgufWriter put(String key, Object value) {
        return put(key, defaultType(key, value), value);
    }

    /**
     * Adds a key with an explicit GGUF type: for a scalar the value's type; for an array value (a Java
     * array) the type of its elements, {@link GgufType#ARRAY} for an array of arrays. This is the
     * convention of {@link GgufFile#typeOf}. Integer values are range-checked against the type
     * (UINT8 0..255, INT16 -32768..32767, UINT32 0..2^32 - 1, ...); UINT64 takes a Long's bits as they are.
     */
    public GgufWriter put(String key, GgufType type, Object value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type of " + key);
        Objects.requireNonNull(value, "value of " + key);
        if (key.equals("general.alignment")) {
            if (!(value instanceof Number n) || n.longValue() != alignment) {
                throw new IllegalArgumentException("general.alignment = " + value + " differs from this writer's alignment "
                        + alignment + "; choose the alignment in the constructor");
            }
        }
        if (value.getClass().isArray()) {
            checkArray(key, type, value);
        } else {
            if (type == GgufType.ARRAY) {
                throw new IllegalArgumentException(key + ": type ARRAY needs an Object[] of arrays, got " + value.getClass().getSimpleName());
            }
            checkScalar(key, type, value);
        }
        metadata.put(key, new Kv(type, value));
        return this;
    }

    /** Copies every metadata key of {@code source} with the type it was stored with (general.alignment excepted). */
    public GgufWriter putAll(GgufFile source) {
        for (var e : source.metadata().asMap().entrySet()) {
            if (!e.getKey().equals("general.alignment")) {
                put(e.getKey(), source.typeOf(e.getKey()), e.getValue());
            }
        }
        return this;
    }

    /** Adds a tensor whose bytes are at hand; {@code data} must be exactly {@code type.byteSize(ne[0], ne[1] * ...)} long. */
    public GgufWriter addTensor(String name, TensorType type, long[] ne, MemorySegment data) {
        Objects.requireNonNull(data, "data of " + name);
        long bytes = byteSize(name, type, ne);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize() + " bytes given, but "
                    + type.name() + " " + Arrays.toString(ne) + " takes " + bytes);
        }
        return add(new Pending(name, type, ne.clone(), bytes, () -> data));
    }

    /** Copies a tensor (name, type, shape, bytes) as another file presents it. */
    public GgufWriter addTensor(TensorEntry t) {
        return addTensor(t.name(), t.type(), t.ne(), t.data());
    }

    /**
     * Adds a tensor whose bytes are produced while the file is written (e.g. quantized one tensor at a
     * time, so a whole model need not sit in memory); the supplier is called once, during {@link #write},
     * and what it returns must be exactly the tensor's size.
     */
    public GgufWriter addTensor(String name, TensorType type, long[] ne, Supplier<MemorySegment> data) {
        Objects.requireNonNull(data, "data of " + name);
        return add(new Pending(name, type, ne.clone(), byteSize(name, type, ne), data));
    }

    private GgufWriter add(Pending p) {
        if (p.name().isEmpty() || p.name().getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + p.name() + "' must be 1.." + MAX_NAME_BYTES + " UTF-8 bytes");
        }
        if (!tensorNames.add(p.name())) {
            throw new IllegalArgumentException("tensor " + p.name() + " added twice");
        }
        tensors.add(p);
        return this;
    }

    private static long byteSize(String name, TensorType type, long[] ne) {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(type, "type of " + name);
        if (ne.length < 1 || ne.length > GgufReader.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": " + ne.length + " dimensions (1.." + GgufReader.MAX_DIMS + " allowed)");
        }
        long rows = 1;
        for (int d = 0; d < ne.length; d++) {
            if (ne[d] < 0) {
                throw new IllegalArgumentException("tensor " + name + ": ne[" + d + "] = " + ne[d] + " is negative");
            }
            if (d > 0) rows = Math.multiplyExact(rows, ne[d]);
        }
        return type.byteSize(ne[0], rows);
    }

    /** Writes the file atomically (see the class comment and {@link TemporaryOutput}). */
    public void write(Path out) throws IOException {
        try (TemporaryOutput tmp = TemporaryOutput.create(out)) {
            try (FileChannel ch = FileChannel.open(tmp.path(), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeTo(ch);
                ch.force(true);
            }
            tmp.commit();
        }
    }

    /**
     * The size in bytes of the file {@link #write} would write now (header, metadata, tensor table, every tensor's
     * data padded to the alignment), without calling any tensor supplier: lets a caller fit a file to a byte budget.
     */
    public long fileSize() {
        long size = header().size;
        for (Pending t : tensors) {
            size = Math.addExact(size, GgufReader.alignUp(t.bytes(), alignment));
        }
        return size;
    }

    private void writeTo(FileChannel ch) throws IOException {
        writeFully(ch, header().toByteBuffer());
        ByteBuffer zeros = ByteBuffer.allocate(alignment);
        for (Pending t : tensors) {
            MemorySegment data = t.data().get();
            if (data == null || data.byteSize() != t.bytes()) {
                throw new IllegalStateException("tensor " + t.name() + ": supplier gave " + (data == null ? "null" : data.byteSize() + " bytes")
                        + ", expected " + t.bytes());
            }
            // asByteBuffer is limited to 2^31 - 1 bytes: write big tensors in pieces
            long chunk = 1L << 30;
            for (long at = 0; at < data.byteSize(); at += chunk) {
                writeFully(ch, data.asSlice(at, Math.min(chunk, data.byteSize() - at)).asByteBuffer());
            }
            long pad = GgufReader.alignUp(t.bytes(), alignment) - t.bytes();
            writeFully(ch, zeros.clear().limit((int) pad));
        }
    }

    /** Magic, counts, metadata and tensor table, padded to the alignment: everything before the first tensor's data. */
    private LeBuffer header() {
        Map<String, Kv> kvs = new LinkedHashMap<>(metadata);
        if (alignment != GgufReader.DEFAULT_ALIGNMENT && !kvs.containsKey("general.alignment")) {
            kvs.put("general.alignment", new Kv(GgufType.UINT32, (long) alignment));
        }
        LeBuffer head = new LeBuffer();
        head.u32(GgufReader.MAGIC).u32(3).u64(tensors.size()).u64(kvs.size());
        for (var e : kvs.entrySet()) {
            head.string(e.getKey());
            Kv kv = e.getValue();
            if (kv.value().getClass().isArray()) {
                head.u32(GgufType.ARRAY.id());
                writeArray(head, kv.type(), kv.value());
            } else {
                head.u32(kv.type().id());
                writeScalar(head, kv.type(), kv.value());
            }
        }
        long offset = 0;
        for (Pending t : tensors) {
            head.string(t.name()).u32(t.ne().length);
            for (long n : t.ne()) head.u64(n);
            head.u32(t.type().id()).u64(offset);
            offset = GgufReader.alignUp(Math.addExact(offset, t.bytes()), alignment);
        }
        head.padTo(alignment);
        return head;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    // ---- values --------------------------------------------------------------------------------------

    private static GgufType defaultType(String key, Object v) {
        return switch (v) {
            case null -> throw new NullPointerException("value of " + key);
            case Integer i -> GgufType.INT32;
            case Long l -> GgufType.INT64;
            case Float f -> GgufType.FLOAT32;
            case Double d -> GgufType.FLOAT64;
            case Boolean b -> GgufType.BOOL;
            case String s -> GgufType.STRING;
            case int[] a -> GgufType.INT32;
            case long[] a -> GgufType.INT64;
            case float[] a -> GgufType.FLOAT32;
            case double[] a -> GgufType.FLOAT64;
            case boolean[] a -> GgufType.BOOL;
            case String[] a -> GgufType.STRING;
            case Object[] a -> GgufType.ARRAY;
            default -> throw new IllegalArgumentException(key + ": no GGUF type for a " + v.getClass().getSimpleName());
        };
    }

    private static void checkScalar(String key, GgufType type, Object v) {
        boolean ok = switch (type) {
            case UINT8 -> inRange(v, 0, 0xff);
            case INT8 -> inRange(v, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> inRange(v, 0, 0xffff);
            case INT16 -> inRange(v, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> inRange(v, 0, 0xffffffffL);
            case INT32 -> inRange(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case INT64, UINT64 -> v instanceof Integer || v instanceof Long;
            case FLOAT32 -> v instanceof Float;
            case FLOAT64 -> v instanceof Double;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException(key + ": " + v + " (" + v.getClass().getSimpleName() + ") cannot be stored as " + type);
        }
    }

    private static boolean inRange(Object v, long min, long max) {
        return (v instanceof Integer || v instanceof Long) && ((Number) v).longValue() >= min && ((Number) v).longValue() <= max;
    }

    private static void checkArray(String key, GgufType elem, Object array) {
        switch (array) {
            case int[] a when elem.isIntSized() || elem.isLongSized() -> {
                for (int x : a) checkScalar(key, elem, x);
            }
            case long[] a when elem.isLongSized() || elem.isIntSized() -> {
                for (long x : a) checkScalar(key, elem, x);
            }
            case float[] a when elem == GgufType.FLOAT32 -> { }
            case double[] a when elem == GgufType.FLOAT64 -> { }
            case boolean[] a when elem == GgufType.BOOL -> { }
            case String[] a when elem == GgufType.STRING -> {
                for (String s : a) Objects.requireNonNull(s, key + ": null string in array");
            }
            case Object[] a when elem == GgufType.ARRAY -> {
                for (int i = 0; i < a.length; i++) {
                    Object inner = a[i];
                    String where = key + "[" + i + "]";
                    if (inner instanceof TypedArray ta) {
                        checkArray(where, ta.elementType(), ta.values());
                    } else if (inner != null && inner.getClass().isArray()) {
                        checkArray(where, defaultType(where, inner), inner);
                    } else {
                        throw new IllegalArgumentException(where + ": an element of an array of arrays must be an array, got " + inner);
                    }
                }
            }
            default -> throw new IllegalArgumentException(key + ": a " + array.getClass().getSimpleName()
                    + " cannot be stored as an array of " + elem);
        }
    }

    private static void writeScalar(LeBuffer b, GgufType type, Object v) {
        switch (type) {
            case UINT8, INT8, BOOL -> b.u8(v instanceof Boolean z ? (z ? 1 : 0) : ((Number) v).intValue());
            case UINT16, INT16 -> b.u16(((Number) v).intValue());
            case UINT32, INT32 -> b.u32(((Number) v).longValue());
            case UINT64, INT64 -> b.u64(((Number) v).longValue());
            case FLOAT32 -> b.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> b.u64(Double.doubleToRawLongBits((Double) v));
            case STRING -> b.string((String) v);
            case ARRAY -> throw new IllegalStateException("arrays are written by writeArray");
        }
    }

    /** element type, count, elements (the caller has written the ARRAY type id where one is due). */
    private static void writeArray(LeBuffer b, GgufType elem, Object array) {
        b.u32(elem.id());
        switch (array) {
            case int[] a -> {
                b.u64(a.length);
                for (int x : a) writeScalar(b, elem, x);
            }
            case long[] a -> {
                b.u64(a.length);
                for (long x : a) writeScalar(b, elem, x);
            }
            case float[] a -> {
                b.u64(a.length);
                for (float x : a) b.u32(Float.floatToRawIntBits(x));
            }
            case double[] a -> {
                b.u64(a.length);
                for (double x : a) b.u64(Double.doubleToRawLongBits(x));
            }
            case boolean[] a -> {
                b.u64(a.length);
                for (boolean x : a) b.u8(x ? 1 : 0);
            }
            case String[] a -> {
                b.u64(a.length);
                for (String x : a) b.string(x);
            }
            case Object[] a -> {
                b.u64(a.length);
                for (Object inner : a) {
                    if (inner instanceof TypedArray ta) {
                        writeArray(b, ta.elementType(), ta.values());
                    } else {
                        writeArray(b, defaultType("", inner), inner);
                    }
                }
            }
            default -> throw new IllegalStateException("checked in put: " + array.getClass());
        }
    }

    /** A growable little-endian byte buffer for the header, metadata and tensor table. */
    private static final class LeBuffer {
        private byte[] buf = new byte[1 << 12];
        private int size;

        private void ensure(int n) {
            if (size + n > buf.length) {
                long want = Math.max((long) buf.length * 2, (long) size + n);
                if (want > Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("GGUF header and metadata exceed 2 GiB");
                }
                buf = Arrays.copyOf(buf, (int) want);
            }
        }

        LeBuffer u8(int v) {
            ensure(1);
            buf[size++] = (byte) v;
            return this;
        }

        LeBuffer u16(int v) {
            return u8(v).u8(v >>> 8);
        }

        LeBuffer u32(long v) {
            return u16((int) v).u16((int) (v >>> 16));
        }

        LeBuffer u64(long v) {
            return u32(v).u32(v >>> 32);
        }

        LeBuffer string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
            return this;
        }

        LeBuffer padTo(int alignment) {
            while (size % alignment != 0) u8(0);
            return this;
        }

        ByteBuffer toByteBuffer() {
            return ByteBuffer.wrap(buf, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
