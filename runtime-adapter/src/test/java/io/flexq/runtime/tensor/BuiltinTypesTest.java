package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The type table rows match GGUF's published ids and block layouts; bad row lengths are refused. */
class BuiltinTypesTest {

    /** (id, name, block size, bytes per block) as ggml defines them. */
    record Row(int id, String name, int blockSize, int blockBytes) {
    }

    static final List<Row> GGUF = List.of(
            new Row(0, "F32", 1, 4),
            new Row(1, "F16", 1, 2),
            new Row(2, "Q4_0", 32, 18),
            new Row(8, "Q8_0", 32, 34),
            new Row(14, "Q6_K", 256, 210),
            new Row(30, "BF16", 1, 2));

    @Test
    void everyBuiltinTypeHasGgufIdNameAndBlockLayout() {
        TensorTypes registry = new TensorTypes(BuiltinTypes.all());
        assertEquals(GGUF.size(), BuiltinTypes.all().size());
        for (Row row : GGUF) {
            TensorType t = registry.require(row.id(), "test");
            assertEquals(row.name(), t.name());
            assertEquals(row.blockSize(), t.blockSize(), row.name());
            assertEquals((long) row.blockBytes() * 8, t.rowBytes(8L * row.blockSize()), row.name());
            assertEquals((long) row.blockBytes() * 8 * 3, t.byteSize(8L * row.blockSize(), 3), row.name());
        }
    }

    @Test
    void constantsAreTheRegisteredInstances() {
        TensorTypes registry = new TensorTypes(BuiltinTypes.all());
        assertSame(FloatTypes.F32, registry.require(0, "test"));
        assertSame(FloatTypes.F16, registry.require(1, "test"));
        assertSame(FloatTypes.BF16, registry.require(30, "test"));
        assertSame(QuantTypes.Q4_0, registry.require(2, "test"));
        assertSame(QuantTypes.Q8_0, registry.require(8, "test"));
        assertSame(QuantTypes.Q6_K, registry.require(14, "test"));
    }

    @Test
    void unknownIdFailsNamingTheContext() {
        TensorTypes registry = new TensorTypes(BuiltinTypes.all());
        var e = assertThrows(TensorTypes.UnsupportedTensorTypeException.class, () -> registry.require(3, "m.gguf: tensor x"));
        assertTrue(e.getMessage().contains("m.gguf: tensor x") && e.getMessage().contains("3"), e.getMessage());
    }

    @Test
    void rowLengthNotAMultipleOfTheBlockIsRefused() {
        for (TensorType t : List.of(QuantTypes.Q8_0, QuantTypes.Q4_0, QuantTypes.Q6_K)) {
            for (long cols : new long[]{1, t.blockSize() - 1, t.blockSize() + 1, 172, 3L * t.blockSize() + 16}) {
                var e = assertThrows(IllegalArgumentException.class, () -> t.rowBytes(cols), t.name() + " " + cols);
                assertTrue(e.getMessage().contains(t.name()) && e.getMessage().contains(Long.toString(cols))
                        && e.getMessage().contains("multiple"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> t.byteSize(cols, 2));
                assertThrows(IllegalArgumentException.class,
                        () -> t.dequantizeRow(java.lang.foreign.MemorySegment.ofArray(new byte[4096]), 0, (int) cols, new float[(int) cols], 0));
                assertThrows(IllegalArgumentException.class, () -> Quantizers.quantize(t, new float[(int) cols], 1, (int) cols));
            }
        }
    }

    @Test
    void plainFloatTypesTakeAnyRowLength() {
        for (TensorType t : List.of(FloatTypes.F32, FloatTypes.F16, FloatTypes.BF16)) {
            assertEquals(172L * (t == FloatTypes.F32 ? 4 : 2), t.rowBytes(172));
            assertThrows(IllegalArgumentException.class, () -> t.rowBytes(-1));
        }
    }

    @Test
    void hugeShapesOverflowCleanly() {
        assertThrows(ArithmeticException.class, () -> QuantTypes.Q8_0.byteSize(1L << 40, 1L << 40));
    }
}
