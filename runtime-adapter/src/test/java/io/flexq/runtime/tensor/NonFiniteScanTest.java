package io.flexq.runtime.tensor;

import io.flexq.runtime.spi.TensorType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 11, finding 2: NaN/Inf weights generated "⁇ ⁇ ⁇" instead of being refused. Every built-in type reports the
 * first row holding a non-finite value: for float types any element, for block types a block's fp16 scale (their
 * codes are integers). The expected row is where the test put the bad value, not something the scan computes.
 */
class NonFiniteScanTest {

    private static final ValueLayout.OfShort I16 = BuiltinType.I16_LE;
    private static final short[] BAD_HALF = {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00, (short) 0x7C01};
    private static final short[] BAD_BF16 = {(short) 0x7F80, (short) 0xFF80, (short) 0x7FC0};

    /** (type, byte offset of the fp16 scale inside a block) for the block types. */
    private record Blocked(BuiltinType type, int scaleAt) {
    }

    private static final List<Blocked> BLOCKED = List.of(
            new Blocked(QuantTypes.Q8_0, 0), new Blocked(QuantTypes.Q4_0, 0), new Blocked(QuantTypes.Q6_K, 208));

    @Test
    void floatTypesReportTheRowOfTheFirstBadElement() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 200; trial++) {
            int cols = 1 + rnd.nextInt(70), rows = 1 + rnd.nextInt(9);
            int bad = rnd.nextInt(cols * rows);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment f32 = arena.allocate(4L * cols * rows);
                MemorySegment f16 = arena.allocate(2L * cols * rows);
                MemorySegment bf16 = arena.allocate(2L * cols * rows);
                for (int i = 0; i < cols * rows; i++) {
                    float v = (float) (rnd.nextGaussian() * 1000);
                    f32.setAtIndex(BuiltinType.F32_LE, i, v);
                    f16.setAtIndex(I16, i, i % 7 == 0 ? (short) 0x7BFF : Float.floatToFloat16(v / 100)); // 65504: finite
                    bf16.setAtIndex(I16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                }
                String seed = "trial " + trial + " cols " + cols + " rows " + rows + " bad " + bad;
                assertEquals(-1, FloatTypes.F32.firstNonFiniteRow(f32, cols, rows), seed);
                assertEquals(-1, FloatTypes.F16.firstNonFiniteRow(f16, cols, rows), seed);
                assertEquals(-1, FloatTypes.BF16.firstNonFiniteRow(bf16, cols, rows), seed);
                float[] badF = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7F800001)};
                f32.setAtIndex(BuiltinType.F32_LE, bad, badF[trial % badF.length]);
                f16.setAtIndex(I16, bad, BAD_HALF[trial % BAD_HALF.length]);
                bf16.setAtIndex(I16, bad, BAD_BF16[trial % BAD_BF16.length]);
                assertEquals(bad / cols, FloatTypes.F32.firstNonFiniteRow(f32, cols, rows), seed);
                assertEquals(bad / cols, FloatTypes.F16.firstNonFiniteRow(f16, cols, rows), seed);
                assertEquals(bad / cols, FloatTypes.BF16.firstNonFiniteRow(bf16, cols, rows), seed);
            }
        }
    }

    @Test
    void blockTypesReportTheRowOfTheFirstBadScale() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (Blocked b : BLOCKED) {
            TensorType t = b.type();
            for (int trial = 0; trial < 50; trial++) {
                int blocksPerRow = 1 + rnd.nextInt(4), rows = 1 + rnd.nextInt(6);
                long cols = (long) blocksPerRow * t.blockSize();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment data = arena.allocate(t.byteSize(cols, rows));
                    // codes of every bit pattern (integers: always finite), finite scales
                    for (long i = 0; i < data.byteSize(); i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
                    int blocks = blocksPerRow * rows;
                    for (int k = 0; k < blocks; k++) {
                        data.set(I16, (long) k * b.type().blockBytes() + b.scaleAt(), Float.floatToFloat16((float) rnd.nextGaussian()));
                    }
                    String seed = t.name() + " trial " + trial;
                    assertEquals(-1, t.firstNonFiniteRow(data, cols, rows), seed);
                    int badBlock = rnd.nextInt(blocks);
                    data.set(I16, (long) badBlock * b.type().blockBytes() + b.scaleAt(), BAD_HALF[trial % BAD_HALF.length]);
                    assertEquals(badBlock / blocksPerRow, t.firstNonFiniteRow(data, cols, rows), seed);
                }
            }
        }
    }
}
