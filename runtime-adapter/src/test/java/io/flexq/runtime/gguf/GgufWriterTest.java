package io.flexq.runtime.gguf;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufWriterTest {

    /** A stand-in plugin type (id >= 1024, 3 bytes per 4 elements) to show any registered type is written. */
    static final TensorType PACKED = new TensorType() {
        public int id() { return 1030; }
        public String name() { return "PACKED6"; }
        public int blockSize() { return 4; }
        public long rowBytes(long cols) {
            if (cols % 4 != 0) throw new IllegalArgumentException("cols " + cols + " not a multiple of 4");
            return Math.multiplyExact(cols / 4, 3L);
        }
        public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int off) {
            throw new UnsupportedOperationException();
        }
    };

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16, PACKED));

    @TempDir
    Path dir;

    @Test
    void everyMetadataTypeAndTensorTypeRoundTripsThroughTheReader() throws IOException {
        for (int alignment : new int[]{1, 32, 64, 4096}) {
            long seed = 77 + alignment;
            Random rnd = new Random(seed);
            String ctx = "alignment " + alignment + " seed " + seed;
            GgufWriter w = new GgufWriter(alignment)
                    .put("general.architecture", GgufType.STRING, "llama")
                    .put("k.u8", GgufType.UINT8, 255)
                    .put("k.i8", GgufType.INT8, -128)
                    .put("k.u16", GgufType.UINT16, 65535)
                    .put("k.i16", GgufType.INT16, -32768)
                    .put("k.u32", GgufType.UINT32, 4294967295L)
                    .put("k.i32", GgufType.INT32, Integer.MIN_VALUE)
                    .put("k.f32", GgufType.FLOAT32, 1e-5f)
                    .put("k.bool", GgufType.BOOL, true)
                    .put("k.str", GgufType.STRING, "▁Once ü")
                    .put("k.u64", GgufType.UINT64, -1L)
                    .put("k.i64", GgufType.INT64, Long.MIN_VALUE)
                    .put("k.f64", GgufType.FLOAT64, -Math.E)
                    .put("a.u8", GgufType.UINT8, new int[]{0, 1, 255})
                    .put("a.i8", GgufType.INT8, new int[]{-128, 127})
                    .put("a.u16", GgufType.UINT16, new int[]{65535})
                    .put("a.i16", GgufType.INT16, new int[]{-2, 3})
                    .put("a.u32", GgufType.UINT32, new long[]{4294967295L, 0})
                    .put("a.i32", GgufType.INT32, new int[]{-5, 6})
                    .put("a.f32", GgufType.FLOAT32, new float[]{0.5f, -0f})
                    .put("a.bool", GgufType.BOOL, new boolean[]{false, true})
                    .put("a.str", GgufType.STRING, new String[]{"<s>", "", "\n"})
                    .put("a.u64", GgufType.UINT64, new long[]{-1L})
                    .put("a.i64", GgufType.INT64, new long[]{Long.MAX_VALUE})
                    .put("a.f64", GgufType.FLOAT64, new double[]{1e-300})
                    .put("a.nested", GgufType.ARRAY, new Object[]{
                            new GgufWriter.TypedArray(GgufType.UINT8, new int[]{9, 8}), new String[]{"x"}, new float[0]})
                    .put("d.int", 7)
                    .put("d.long", 8L)
                    .put("d.strs", new String[]{"a"});

            byte[] f32 = randomFloats(rnd, 5 * 3);
            byte[] f16 = new byte[2 * 7];
            for (int i = 0; i < 7; i++) {
                short h = Float.floatToFloat16((float) rnd.nextGaussian());
                f16[2 * i] = (byte) h;
                f16[2 * i + 1] = (byte) (h >> 8);
            }
            byte[] packed = new byte[3 * 2 * 4];
            rnd.nextBytes(packed);
            byte[] big = randomFloats(rnd, 33 * 2 * 2);
            w.addTensor("a.weight", FloatTypes.F32, new long[]{5, 3}, MemorySegment.ofArray(f32));
            w.addTensor("h.weight", FloatTypes.F16, new long[]{7}, MemorySegment.ofArray(f16));
            w.addTensor("q.weight", PACKED, new long[]{8, 4}, () -> MemorySegment.ofArray(packed));
            w.addTensor("c.weight", FloatTypes.F32, new long[]{33, 2, 2}, MemorySegment.ofArray(big));

            Path out = dir.resolve("rt" + alignment + ".gguf");
            long predicted = w.fileSize();
            w.write(out);
            assertEquals(Files.size(out), predicted, ctx + ": fileSize() before write");
            try (GgufFile g = GgufFile.open(out, TYPES)) {
                Metadata m = g.metadata();
                assertEquals(alignment, g.alignment(), ctx);
                assertEquals(alignment != 32, m.has("general.alignment"), ctx);
                assertEquals(255, m.require("k.u8"), ctx);
                assertEquals(-128, m.require("k.i8"), ctx);
                assertEquals(65535, m.require("k.u16"), ctx);
                assertEquals(-32768, m.require("k.i16"), ctx);
                assertEquals(4294967295L, m.require("k.u32"), ctx);
                assertEquals(Integer.MIN_VALUE, m.require("k.i32"), ctx);
                assertEquals(1e-5f, m.require("k.f32"), ctx);
                assertEquals(true, m.require("k.bool"), ctx);
                assertEquals("▁Once ü", m.require("k.str"), ctx);
                assertEquals(-1L, m.require("k.u64"), ctx);
                assertEquals(Long.MIN_VALUE, m.require("k.i64"), ctx);
                assertEquals(-Math.E, m.require("k.f64"), ctx);
                assertArrayEquals(new int[]{0, 1, 255}, m.getArray("a.u8", int[].class), ctx);
                assertArrayEquals(new int[]{-128, 127}, m.getArray("a.i8", int[].class), ctx);
                assertArrayEquals(new int[]{65535}, m.getArray("a.u16", int[].class), ctx);
                assertArrayEquals(new int[]{-2, 3}, m.getArray("a.i16", int[].class), ctx);
                assertArrayEquals(new long[]{4294967295L, 0}, m.getArray("a.u32", long[].class), ctx);
                assertArrayEquals(new int[]{-5, 6}, m.getArray("a.i32", int[].class), ctx);
                assertArrayEquals(new float[]{0.5f, -0f}, m.getArray("a.f32", float[].class), ctx);
                assertArrayEquals(new boolean[]{false, true}, m.getArray("a.bool", boolean[].class), ctx);
                assertArrayEquals(new String[]{"<s>", "", "\n"}, m.getArray("a.str", String[].class), ctx);
                assertArrayEquals(new long[]{-1L}, m.getArray("a.u64", long[].class), ctx);
                assertArrayEquals(new long[]{Long.MAX_VALUE}, m.getArray("a.i64", long[].class), ctx);
                assertArrayEquals(new double[]{1e-300}, m.getArray("a.f64", double[].class), ctx);
                Object[] nested = m.getArray("a.nested", Object[].class);
                assertArrayEquals(new int[]{9, 8}, (int[]) nested[0], ctx);
                assertArrayEquals(new String[]{"x"}, (String[]) nested[1], ctx);
                assertArrayEquals(new float[0], (float[]) nested[2], ctx);
                assertEquals(7, m.require("d.int"), ctx);
                assertEquals(8L, m.require("d.long"), ctx);
                for (String k : List.of("k.u8", "k.i8", "k.u16", "k.i16", "k.u32", "k.i32", "k.f32", "k.bool", "k.str", "k.u64", "k.i64", "k.f64")) {
                    assertEquals(k.substring(2), g.typeOf(k).toString().replace("uint", "u").replace("int", "i")
                            .replace("float", "f").replace("string", "str"), k);
                }
                assertEquals(GgufType.UINT32, g.typeOf("a.u32"));
                assertEquals(GgufType.INT64, g.typeOf("d.long"));

                assertEquals(List.of("a.weight", "h.weight", "q.weight", "c.weight"), List.copyOf(g.tensors().keySet()), ctx);
                assertTensor(g, "a.weight", FloatTypes.F32, new long[]{5, 3}, f32, ctx);
                assertTensor(g, "h.weight", FloatTypes.F16, new long[]{7}, f16, ctx);
                assertTensor(g, "q.weight", PACKED, new long[]{8, 4}, packed, ctx);
                assertTensor(g, "c.weight", FloatTypes.F32, new long[]{33, 2, 2}, big, ctx);
                for (TensorEntry t : g.tensors().values()) {
                    long fileOffset = t.data().address() - firstAddress(g);
                    assertEquals(0, fileOffset % alignment, ctx + " " + t.name());
                }
            }
            assertEquals(List.of(out.getFileName().toString()), listNames(dir, "rt" + alignment), ctx);
        }
    }

    private static long firstAddress(GgufFile g) {
        // tensors are slices of one mapping: the data start is dataStart bytes past the mapping's base,
        // and the first tensor has offset 0
        return g.tensors().values().iterator().next().data().address();
    }

    private static void assertTensor(GgufFile g, String name, TensorType type, long[] ne, byte[] bytes, String ctx) {
        TensorEntry t = g.tensor(name);
        assertEquals(type, t.type(), ctx + " " + name);
        assertArrayEquals(ne, t.ne(), ctx + " " + name);
        assertArrayEquals(bytes, t.data().toArray(ValueLayout.JAVA_BYTE), ctx + " " + name);
    }

    private static byte[] randomFloats(Random rnd, int n) {
        MemorySegment s = Arena.ofAuto().allocate(4L * n);
        for (int i = 0; i < n; i++) s.set(GgufCursor.F32, 4L * i, (float) rnd.nextGaussian());
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static List<String> listNames(Path dir, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        }
    }

    /**
     * Copying llama.cpp's files key by key (with their stored types) and tensor by tensor reproduces
     * them byte for byte: the writer lays out header, metadata, tensor table, padding and data exactly
     * as llama.cpp's gguf writer does.
     */
    @Test
    void rewritingLlamaCppFilesReproducesThemByteForByte() throws IOException {
        for (String name : List.of("stories260K-f32.gguf", "stories260K-f16.gguf")) {
            Path src = SharedData.require("models/" + name);
            Path out = dir.resolve("copy-" + name);
            try (GgufFile g = GgufFile.open(src, TYPES)) {
                GgufWriter w = new GgufWriter(g.alignment()).putAll(g);
                g.tensors().values().forEach(w::addTensor);
                w.write(out);
            }
            byte[] a = Files.readAllBytes(src), b = Files.readAllBytes(out);
            assertEquals(a.length, b.length, name + " size");
            assertEquals(-1, Arrays.mismatch(a, b), name + ": first differing byte");
        }
    }

    @Test
    void aFailingTensorLeavesNoFileAndKeepsTheOldOne() throws IOException {
        Path out = dir.resolve("model.gguf");
        Files.writeString(out, "previous contents");
        GgufWriter w = new GgufWriter(64).put("general.architecture", "llama")
                .addTensor("a.weight", FloatTypes.F32, new long[]{4}, MemorySegment.ofArray(new byte[16]))
                .addTensor("b.weight", FloatTypes.F32, new long[]{4}, () -> {
                    throw new IllegalStateException("quantizer failed on b.weight");
                });
        var e = assertThrows(IllegalStateException.class, () -> w.write(out));
        assertTrue(e.getMessage().contains("b.weight"));
        assertEquals("previous contents", Files.readString(out));
        assertEquals(List.of("model.gguf"), listNames(dir, "model"), "no temporary file left behind");

        GgufWriter wrongSize = new GgufWriter().addTensor("c.weight", FloatTypes.F32, new long[]{4},
                () -> MemorySegment.ofArray(new byte[15]));
        var s = assertThrows(IllegalStateException.class, () -> wrongSize.write(dir.resolve("other.gguf")));
        assertTrue(s.getMessage().contains("c.weight") && s.getMessage().contains("15"), s.getMessage());
        assertFalse(Files.exists(dir.resolve("other.gguf")));
        assertEquals(List.of("model.gguf"), listNames(dir, ""));
    }

    @Test
    void invalidArgumentsAreRefusedWhenGiven() {
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter(48));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter(0));
        GgufWriter w = new GgufWriter(64);
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.UINT32, -1));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.INT8, new int[]{1, 200}));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.FLOAT32, 1.0));
        assertThrows(IllegalArgumentException.class, () -> w.put("x", GgufType.STRING, new int[]{1}));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufType.UINT32, 32L));
        w.put("general.alignment", GgufType.UINT32, 64L);
        var size = assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", FloatTypes.F32, new long[]{3, 2}, MemorySegment.ofArray(new byte[20])));
        assertTrue(size.getMessage().contains("t") && size.getMessage().contains("24"), size.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("p", PACKED, new long[]{6}, MemorySegment.ofArray(new byte[0])));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("x".repeat(64), FloatTypes.F32, new long[]{1}, MemorySegment.ofArray(new byte[4])));
        w.addTensor("t", FloatTypes.F32, new long[]{1}, MemorySegment.ofArray(new byte[4]));
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("t", FloatTypes.F32, new long[]{1}, MemorySegment.ofArray(new byte[4])));
    }
}
