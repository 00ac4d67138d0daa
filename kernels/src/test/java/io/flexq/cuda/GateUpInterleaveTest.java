package io.flexq.cuda;

import io.flexq.plugin.quant.Fq6Layout;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The host side of the gate|up interleave ({@link DeviceUpload#interleave8}), checked row by row through
 * {@link Fq6Layout}'s offsets: output row 16i + j is the first tensor's row 8i + j for j < 8 and the second's row
 * 8i + j - 8 otherwise, codes and scales alike.
 */
class GateUpInterleaveTest {

    @Test
    void rowsAlternateInEightsInBothPlanes() {
        int rows = 24, cols = 300, groups = Fq6Layout.groups(cols);
        long one = Fq6Layout.byteSize(rows, cols);
        Random rnd = new Random(5);
        byte[] a = new byte[(int) one], b = new byte[(int) one];
        rnd.nextBytes(a);
        rnd.nextBytes(b);
        MemorySegment out = MemorySegment.ofArray(new byte[(int) (2 * one)]);
        DeviceUpload.interleave8(MemorySegment.ofArray(a), MemorySegment.ofArray(b), rows, cols, out);
        for (int r = 0; r < 2 * rows; r++) {
            byte[] src = r % 16 < 8 ? a : b;
            int from = r / 16 * 8 + r % 8;
            for (int g = 0; g < groups; g++) {
                long to = Fq6Layout.codeOffset(2L * rows, cols, r, g), at = Fq6Layout.codeOffset(rows, cols, from, g);
                for (int i = 0; i < Fq6Layout.GROUP_CODE_BYTES; i++) {
                    assertEquals(src[(int) at + i], out.get(ValueLayout.JAVA_BYTE, to + i), "row " + r + " group " + g + " code byte " + i);
                }
                long sTo = Fq6Layout.scaleOffset(2L * rows, cols, r, g), sAt = Fq6Layout.scaleOffset(rows, cols, from, g);
                for (int i = 0; i < Fq6Layout.SCALE_BYTES; i++) {
                    assertEquals(src[(int) sAt + i], out.get(ValueLayout.JAVA_BYTE, sTo + i), "row " + r + " group " + g + " scale byte " + i);
                }
            }
        }
    }
}
