package io.flexq.runtime.cpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-only: just enough of GGUF v3 to find tensors (name, type id, ne, data slice) in small trusted files
 * written by llama.cpp. Metadata values are skipped except general.alignment. Not the runtime's reader.
 */
final class MiniGguf {

    record Tensor(String name, int type, long[] ne, MemorySegment data) {
        long cols() {
            return ne[0];
        }

        long rows() {
            long r = 1;
            for (int i = 1; i < ne.length; i++) {
                r *= ne[i];
            }
            return r;
        }
    }

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment file;
    private long pos;

    private MiniGguf(MemorySegment file) {
        this.file = file;
    }

    /** Maps {@code path} in {@code arena} and returns its tensors by name. */
    static Map<String, Tensor> read(Path path, Arena arena) throws IOException {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        return new MiniGguf(file).tensors(path);
    }

    private Map<String, Tensor> tensors(Path path) {
        if (u32() != 0x46554747) { // "GGUF"
            throw new IllegalStateException(path + ": not GGUF");
        }
        int version = u32();
        if (version != 3) {
            throw new IllegalStateException(path + ": GGUF version " + version);
        }
        long nTensors = u64();
        long nKv = u64();
        long alignment = 32;
        for (long i = 0; i < nKv; i++) {
            String key = string();
            int type = u32();
            if (key.equals("general.alignment") && type == 4) {
                alignment = u32() & 0xFFFFFFFFL;
            } else {
                skip(type);
            }
        }
        record Info(String name, int type, long[] ne, long offset) {
        }
        Info[] infos = new Info[(int) nTensors];
        for (int i = 0; i < nTensors; i++) {
            String name = string();
            long[] ne = new long[u32()];
            for (int d = 0; d < ne.length; d++) {
                ne[d] = u64();
            }
            infos[i] = new Info(name, u32(), ne, u64());
        }
        long dataStart = (pos + alignment - 1) / alignment * alignment;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < infos.length; i++) {
            // a tensor ends where the next one (by offset) starts: file order and offset order may differ
            long next = file.byteSize() - dataStart;
            for (Info o : infos) {
                if (o.offset() > infos[i].offset() && o.offset() < next) {
                    next = o.offset();
                }
            }
            long end = next;
            out.put(infos[i].name(), new Tensor(infos[i].name(), infos[i].type(), infos[i].ne(),
                    file.asSlice(dataStart + infos[i].offset(), end - infos[i].offset())));
        }
        return out;
    }

    private int u32() {
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64() {
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private String string() {
        int n = Math.toIntExact(u64());
        byte[] b = file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Skips one metadata value of GGUF value type {@code type}. */
    private void skip(int type) {
        switch (type) {
            case 0, 1, 7 -> pos += 1;
            case 2, 3 -> pos += 2;
            case 4, 5, 6 -> pos += 4;
            case 10, 11, 12 -> pos += 8;
            case 8 -> {
                long n = u64(); // not "pos += u64()": that would read pos before u64() advances it
                pos += n;
            }
            case 9 -> {
                int elem = u32();
                long n = u64();
                for (long i = 0; i < n; i++) {
                    skip(elem);
                }
            }
            default -> throw new IllegalStateException("metadata type " + type);
        }
    }
}
