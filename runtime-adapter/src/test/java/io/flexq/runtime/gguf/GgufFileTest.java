package io.flexq.runtime.gguf;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Reads GGUF files built byte by byte in the test ({@link GgufBytes}) and checks every decoded value. */
class GgufFileTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16));

    @TempDir
    Path dir;

    @Test
    void everyScalarTypeDecodesToTheDocumentedJavaValue() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 14);
        b.key("u8", 0).u8(255);
        b.key("i8", 1).u8(0x80);
        b.key("u16", 2).u16(65535);
        b.key("i16", 3).u16(0x8000);
        b.key("u32", 4).u32(0xffffffffL);
        b.key("i32", 5).u32(0x80000000L);
        b.key("f32", 6).f32(-1.5f);
        b.key("bool", 7).u8(1);
        b.key("string", 8).str("héllo ▁wörld");
        b.key("u64", 10).u64(-1L);
        b.key("i64", 11).u64(Long.MIN_VALUE);
        b.key("f64", 12).f64(Math.PI);
        b.key("empty", 8).str("");
        b.key("false", 7).u8(0);
        try (GgufFile f = GgufFile.open(b.writeTo(dir.resolve("s.gguf")), TYPES)) {
            Metadata m = f.metadata();
            assertEquals(255, m.require("u8"));
            assertEquals(-128, m.require("i8"));
            assertEquals(65535, m.require("u16"));
            assertEquals(-32768, m.require("i16"));
            assertEquals(4294967295L, m.require("u32"));
            assertEquals(Integer.MIN_VALUE, m.require("i32"));
            assertEquals(-1.5f, m.require("f32"));
            assertEquals(true, m.require("bool"));
            assertEquals("héllo ▁wörld", m.require("string"));
            assertEquals(-1L, m.require("u64"));   // 2^64 - 1: bits kept
            assertEquals(Long.MIN_VALUE, m.require("i64"));
            assertEquals(Math.PI, m.require("f64"));
            assertEquals("", m.require("empty"));
            assertEquals(false, m.require("false"));
            assertEquals(GgufType.UINT8, f.typeOf("u8"));
            assertEquals(GgufType.UINT64, f.typeOf("u64"));
            assertEquals(GgufType.STRING, f.typeOf("string"));
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "u64", "i64", "f64", "empty", "false"),
                    List.copyOf(m.asMap().keySet()));
            assertEquals(0, f.tensors().size());
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
        }
    }

    @Test
    void everyArrayTypeIncludingNestedDecodes() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 14);
        b.key("a.u8", 9).u32(0).u64(3).u8(0).u8(7).u8(255);
        b.key("a.i8", 9).u32(1).u64(2).u8(0xff).u8(0x7f);
        b.key("a.u16", 9).u32(2).u64(2).u16(65535).u16(1);
        b.key("a.i16", 9).u32(3).u64(2).u16(0xffff).u16(2);
        b.key("a.u32", 9).u32(4).u64(2).u32(0xffffffffL).u32(3);
        b.key("a.i32", 9).u32(5).u64(3).u32(-7).u32(0).u32(Integer.MAX_VALUE);
        b.key("a.f32", 9).u32(6).u64(2).f32(0.25f).f32(Float.NaN);
        b.key("a.bool", 9).u32(7).u64(3).u8(1).u8(0).u8(1);
        b.key("a.str", 9).u32(8).u64(3).str("<unk>").str("").str("▁the");
        b.key("a.u64", 9).u32(10).u64(2).u64(-2L).u64(5);
        b.key("a.i64", 9).u32(11).u64(1).u64(-9L);
        b.key("a.f64", 9).u32(12).u64(2).f64(1e300).f64(-0.0);
        b.key("a.empty", 9).u32(5).u64(0);
        // [[1, 2] as u8, ["x"] as string, [] as i32]
        b.key("a.nested", 9).u32(9).u64(3)
                .u32(0).u64(2).u8(1).u8(2)
                .u32(8).u64(1).str("x")
                .u32(5).u64(0);
        try (GgufFile f = GgufFile.open(b.writeTo(dir.resolve("a.gguf")), TYPES)) {
            Metadata m = f.metadata();
            assertArrayEquals(new int[]{0, 7, 255}, m.getArray("a.u8", int[].class));
            assertArrayEquals(new int[]{-1, 127}, m.getArray("a.i8", int[].class));
            assertArrayEquals(new int[]{65535, 1}, m.getArray("a.u16", int[].class));
            assertArrayEquals(new int[]{-1, 2}, m.getArray("a.i16", int[].class));
            assertArrayEquals(new long[]{4294967295L, 3}, m.getArray("a.u32", long[].class));
            assertArrayEquals(new int[]{-7, 0, Integer.MAX_VALUE}, m.getArray("a.i32", int[].class));
            float[] fl = m.getArray("a.f32", float[].class);
            assertEquals(0.25f, fl[0]);
            assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(fl[1]));
            assertArrayEquals(new boolean[]{true, false, true}, m.getArray("a.bool", boolean[].class));
            assertArrayEquals(new String[]{"<unk>", "", "▁the"}, m.getArray("a.str", String[].class));
            assertArrayEquals(new long[]{-2L, 5}, m.getArray("a.u64", long[].class));
            assertArrayEquals(new long[]{-9L}, m.getArray("a.i64", long[].class));
            double[] d = m.getArray("a.f64", double[].class);
            assertEquals(1e300, d[0]);
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(d[1]));
            assertArrayEquals(new int[0], m.getArray("a.empty", int[].class));
            Object[] nested = m.getArray("a.nested", Object[].class);
            assertEquals(3, nested.length);
            assertArrayEquals(new int[]{1, 2}, (int[]) nested[0]);
            assertArrayEquals(new String[]{"x"}, (String[]) nested[1]);
            assertArrayEquals(new int[0], (int[]) nested[2]);
            assertEquals(GgufType.UINT32, f.typeOf("a.u32"));
            assertEquals(GgufType.STRING, f.typeOf("a.str"));
            assertEquals(GgufType.ARRAY, f.typeOf("a.nested"));
        }
    }

    @Test
    void tensorsAreSlicesAtAlignedOffsetsWithTheirRegisteredType() throws IOException {
        for (int version : new int[]{2, 3}) {
            for (int alignment : new int[]{0, 1, 8, 64, 256}) {   // 0 = key absent, default 32
                long seed = 1000L * version + alignment;
                Random rnd = new Random(seed);
                float[] a = new float[6 * 5];
                for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
                short[] h = new short[7];
                for (int i = 0; i < h.length; i++) h[i] = Float.floatToFloat16((float) rnd.nextGaussian());
                int align = alignment == 0 ? 32 : alignment;
                long aBytes = a.length * 4L;
                long hOffset = (aBytes + align - 1) / align * align;

                GgufBytes b = new GgufBytes().header(version, 2, alignment == 0 ? 1 : 2);
                b.key("general.architecture", 8).str("llama");
                if (alignment != 0) b.key("general.alignment", 4).u32(alignment);
                b.tensor("a.weight", new long[]{6, 5}, 0, 0);
                b.tensor("h.weight", new long[]{7}, 1, hOffset);
                b.padTo(align);
                int dataStart = b.size();
                ByteBuffer data = ByteBuffer.allocate((int) (hOffset + 14)).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : a) data.putFloat(v);
                data.position((int) hOffset);
                for (short v : h) data.putShort(v);
                b.raw(data.array());

                try (GgufFile f = GgufFile.open(b.writeTo(dir.resolve("t" + seed + ".gguf")), TYPES)) {
                    String ctx = "version " + version + " alignment " + alignment + " seed " + seed;
                    assertEquals(align, f.alignment(), ctx);
                    assertEquals(dataStart, f.dataStart(), ctx);
                    assertEquals(List.of("a.weight", "h.weight"), List.copyOf(f.tensors().keySet()), ctx);
                    TensorEntry ta = f.tensor("a.weight");
                    assertSame(FloatTypes.F32, ta.type(), ctx);
                    assertArrayEquals(new long[]{6, 5}, ta.ne(), ctx);
                    assertEquals(5, ta.rows(), ctx);
                    assertArrayEquals(a, ta.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)), ctx);
                    TensorEntry th = f.tensor("h.weight");
                    assertSame(FloatTypes.F16, th.type(), ctx);
                    assertEquals(14, th.data().byteSize(), ctx);
                    assertArrayEquals(h, th.data().toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)), ctx);
                    assertEquals(version, f.version());
                    assertInstanceOf(String.class, f.metadata().require("general.architecture"));
                }
            }
        }
    }
}
