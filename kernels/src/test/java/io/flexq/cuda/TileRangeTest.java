package io.flexq.cuda;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cover of a row range addresses, at its pointer offsets, exactly the bytes the full matrix's tile layout holds for
 * those rows: checked against the index formulas at the top of flexq.cu (weight tile (rt, g) at ((rt * G) + g) * 1536,
 * scale of (r, g) at fp16 index (rt * G + g) * 16 + r - rt * 16), written out here independently.
 */
class TileRangeTest {

    @Test
    void everyRowOfARangeIsAddressedWhereTheFullLayoutKeepsIt() {
        long seed = 20261206L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int trial = 0; trial < 400; trial++) {
            int rows = 1 + rnd.nextInt(trial < 200 ? 70 : 5000), cols = 1 + rnd.nextInt(3000);
            int from = rnd.nextInt(rows), to = from + 1 + rnd.nextInt(rows - from);
            TileRange c = TileRange.of(from, to, rows, cols);
            String what = "seed " + seed + " trial " + trial + ": rows [" + from + ", " + to + ") of " + rows + " x " + cols + " -> " + c;
            long g = (cols + 127) / 128;
            assertEquals(0, c.coverFrom() % 16, what);
            assertTrue(c.coverFrom() <= from && from - c.coverFrom() < 16, what);
            assertTrue(c.coverTo() >= to && c.coverTo() - to < 16 && c.coverTo() <= rows, what);
            assertTrue(c.coverTo() % 16 == 0 || c.coverTo() == rows, what);
            long fullWeights = (rows + 15L) / 16 * g * 1536, fullScales = (rows + 15L) / 16 * g * 32;
            assertTrue(c.weightOffset() + c.weightBytes(cols) <= fullWeights, what);
            assertTrue(c.scaleOffset() + c.scaleBytes(cols) <= fullScales, what);
            for (int r = from; r < to; r += Math.max(1, (to - from) / 7)) {
                int sub = r - c.coverFrom();
                for (long gg : new long[] {0, g - 1}) {
                    long fullTile = ((r / 16) * g + gg) * 1536, subTile = c.weightOffset() + ((sub / 16) * g + gg) * 1536;
                    assertEquals(fullTile, subTile, what + ", weight tile of row " + r + " group " + gg);
                    assertTrue(subTile - c.weightOffset() + 1536 <= c.weightBytes(cols), what + ", weight tile of row " + r + " inside the launch's bytes");
                    long fullScale = 2 * (((r / 16) * g + gg) * 16 + r % 16);
                    long subScale = c.scaleOffset() + 2 * (((sub / 16) * g + gg) * 16 + sub % 16);
                    assertEquals(fullScale, subScale, what + ", scale of row " + r + " group " + gg);
                }
            }
        }
    }

    @Test
    void aFullRangeIsTheWholeLayout() {
        TileRange c = TileRange.of(0, 4101, 4101, 1000);
        assertEquals(0, c.coverFrom());
        assertEquals(4101, c.coverTo());
        assertEquals(0, c.weightOffset());
        assertEquals(FlexqKernels.tileBytes(4101, 1000), c.weightBytes(1000));
        assertEquals(FlexqKernels.scaleTileBytes(4101, 1000), c.scaleBytes(1000));
    }

    @Test
    void emptyOrOutsideRangesAreRefusedWithTheRange() {
        for (int[] bad : new int[][] {{5, 5}, {-1, 3}, {3, 65}, {7, 2}}) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> TileRange.of(bad[0], bad[1], 64, 256));
            assertTrue(e.getMessage().contains("[" + bad[0] + ", " + bad[1] + ")"), e.getMessage());
        }
    }

    @Test
    void theRowRangePolicyFlagIsParsedOrRefusedByName() {
        assertEquals(RowRanges.SHARED, RowRanges.parse("shared"));
        assertEquals(RowRanges.LAUNCH, RowRanges.parse(" Launch "));
        assertEquals(RowRanges.WHOLE, RowRanges.parse("whole"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RowRanges.parse("chunks"));
        assertTrue(e.getMessage().contains("flexq.cuda.rowRanges") && e.getMessage().contains("chunks"), e.getMessage());
    }
}
