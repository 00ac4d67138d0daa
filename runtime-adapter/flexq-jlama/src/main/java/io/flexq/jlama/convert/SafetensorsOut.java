package io.flexq.jlama.convert;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one {@code .safetensors} file: u64 little-endian header length N, N bytes of JSON
 * ({@code name -> {dtype, shape, data_offsets [begin, end)}} relative to the data start, plus
 * {@code __metadata__}), padded with spaces to a multiple of 8, then the tensors back to back.
 */
final class SafetensorsOut {

    /** One tensor: dtype "F32" or "F16", row-major shape (rows first), little-endian bytes. */
    record Tensor(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Tensor> tensors = new ArrayList<>();

    void add(Tensor t) {
        tensors.add(t);
    }

    void write(OutputStream out) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Tensor t : tensors) {
            List<Object> shape = new ArrayList<>();
            for (long d : t.shape()) {
                shape.add(d);
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", t.dtype());
            e.put("shape", shape);
            e.put("data_offsets", List.of(offset, offset + t.data().length));
            header.put(t.name(), e);
            offset += t.data().length;
        }
        byte[] json = JsonOut.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(json, 0, h, 0, json.length);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(h);
        for (Tensor t : tensors) {
            out.write(t.data());
        }
    }
}
