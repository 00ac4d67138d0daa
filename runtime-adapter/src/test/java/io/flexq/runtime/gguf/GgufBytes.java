package io.flexq.runtime.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A byte-level GGUF builder for tests, written from the format description and independent of
 * {@link GgufWriter}: every field is emitted explicitly, so tests can also emit wrong ones.
 */
final class GgufBytes {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    GgufBytes u8(int v) {
        out.write(v);
        return this;
    }

    GgufBytes u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    GgufBytes u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    GgufBytes u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    GgufBytes f32(float v) {
        return u32(Float.floatToRawIntBits(v));
    }

    GgufBytes f64(double v) {
        return u64(Double.doubleToRawLongBits(v));
    }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    GgufBytes raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** "GGUF", version, tensor count, kv count. */
    GgufBytes header(int version, long tensors, long kvs) {
        return u32(0x46554747).u32(version).u64(tensors).u64(kvs);
    }

    /** A key with its value type id; the caller writes the value. */
    GgufBytes key(String key, int typeId) {
        return str(key).u32(typeId);
    }

    /** A tensor info: name, n_dims, ne..., type id, offset. */
    GgufBytes tensor(String name, long[] ne, int typeId, long offset) {
        str(name).u32(ne.length);
        for (long n : ne) u64(n);
        return u32(typeId).u64(offset);
    }

    GgufBytes padTo(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    Path writeTo(Path p) throws IOException {
        Files.write(p, bytes());
        return p;
    }
}
