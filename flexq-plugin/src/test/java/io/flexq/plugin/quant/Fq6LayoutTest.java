package io.flexq.plugin.quant;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FQ6 byte layout (docs/FQ6.md section 7). */
class Fq6LayoutTest {

    /**
     * Independent packer: the spec's 24-bit little-endian words of four codes are the same as a
     * little-endian bit stream in which code k occupies bits 6k .. 6k+5 of the group.
     */
    static byte[] bitStream(byte[] codes, int off) {
        byte[] out = new byte[96];
        for (int k = 0; k < 128; k++) {
            for (int b = 0; b < 6; b++) {
                if (((codes[off + k] >> b) & 1) != 0) {
                    int bit = 6 * k + b;
                    out[bit / 8] |= (byte) (1 << (bit % 8));
                }
            }
        }
        return out;
    }

    static byte[] randomCodes(Random rnd, int n) {
        byte[] c = new byte[n];
        for (int i = 0; i < n; i++) {
            c[i] = (byte) (rnd.nextInt(64) - 32);
        }
        return c;
    }

    @Test
    void packMatchesTheBitStreamAndUnpackRoundTrips() {
        long seed = 3L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 200; trial++) {
            byte[] codes = randomCodes(rnd, 128);
            if (trial == 0) {
                java.util.Arrays.fill(codes, (byte) -32);
            } else if (trial == 1) {
                java.util.Arrays.fill(codes, (byte) 31);
            }
            byte[] packed = new byte[96];
            Fq6Layout.packGroup(codes, 0, packed, 0);
            assertArrayEquals(bitStream(codes, 0), packed, "seed " + seed + ", trial " + trial);
            byte[] back = new byte[128];
            Fq6Layout.unpackGroup(packed, 0, back, 0);
            assertArrayEquals(codes, back, "seed " + seed + ", trial " + trial);
        }
        assertEquals(6.125, (96 + 2) * 8 / 128.0);
    }

    @Test
    void tensorRoundTripAndPlaneOffsets() {
        long seed = 4L;
        Random rnd = new Random(seed);
        int rows = 3, cols = 200, groups = 2;
        byte[] codes = randomCodes(rnd, rows * 256);
        for (int r = 0; r < rows; r++) {
            for (int k = cols; k < 256; k++) {
                codes[r * 256 + k] = 0;
            }
        }
        short[] scales = new short[rows * groups];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Float.floatToFloat16((float) rnd.nextDouble() * 0.01f);
        }
        FlexqWeights w = FlexqWeights.of("t", rows, cols, codes, scales);
        byte[] bytes = w.toFq6Bytes();
        assertEquals((long) rows * groups * 98, bytes.length);
        assertEquals(0, Fq6Layout.codesBytes(rows, cols) % 32);
        MemorySegment seg = MemorySegment.ofArray(bytes);
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                byte[] group = new byte[96];
                System.arraycopy(bytes, (r * groups + g) * 96, group, 0, 96);
                assertArrayEquals(bitStream(codes, r * 256 + g * 128), group, "codes of r " + r + ", g " + g);
                short s = seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                        rows * groups * 96L + (r * groups + g) * 2L);
                assertEquals(scales[r * groups + g], s, "scale of r " + r + ", g " + g);
            }
        }
        FlexqWeights back = FlexqWeights.readFq6("t", seg, rows, cols);
        assertArrayEquals(codes, back.copyCodes());
        assertArrayEquals(scales, back.copyScalesFp16());
    }

    @Test
    void quantizeWriteReadGivesIdenticalCodesAndScales() {
        long seed = 5L;
        float[] w = WeightQuantizerTest.gaussian(new Random(seed), 7 * 300, 0.03);
        FlexqWeights q = WeightQuantizer.clipping().quantize("w", w, 7, 300).weights();
        FlexqWeights back = FlexqWeights.readFq6("w", MemorySegment.ofArray(q.toFq6Bytes()), 7, 300);
        assertArrayEquals(q.copyCodes(), back.copyCodes(), "seed " + seed);
        assertArrayEquals(q.copyScalesFp16(), back.copyScalesFp16(), "seed " + seed);
    }

    @Test
    void badTensorsAreRefusedWithTheirName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FlexqWeights.readFq6("m.gguf: blk.1.ffn_up.weight", MemorySegment.ofArray(new byte[100]), 1, 128));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight") && e.getMessage().contains("98"), e.getMessage());
        byte[] codes = new byte[256];
        codes[250] = 1; // padding of a 200-column row
        e = assertThrows(IllegalArgumentException.class, () -> FlexqWeights.of("pad", 1, 200, codes, new short[2]));
        assertTrue(e.getMessage().contains("padding") && e.getMessage().contains("column 250"), e.getMessage());
        byte[] bytes = new byte[98];
        bytes[96] = 0;
        bytes[97] = 0x7e; // fp16 NaN
        e = assertThrows(IllegalArgumentException.class, () -> FlexqWeights.readFq6("nan", MemorySegment.ofArray(bytes), 1, 128));
        assertTrue(e.getMessage().contains("scale of row 0, group 0"), e.getMessage());
        byte[] big = new byte[128];
        big[3] = 40;
        assertThrows(IllegalArgumentException.class, () -> FlexqWeights.of("range", 1, 128, big, new short[1]));
    }
}
