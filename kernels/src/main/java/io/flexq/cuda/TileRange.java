package io.flexq.cuda;

/**
 * What a row-range launch computes for output rows {@code [rowFrom, rowTo)} of an R x K FQ6 matrix: the whole 16-row
 * tiles that hold them. In the tile layouts of flexq.cu weight tile (rt, g) sits at byte {@code (rt * G + g) * 1536}
 * and the scales of tile rt at {@code (rt * G + g) * 32}, so the tiles from {@code rt0} on are the same layout at a
 * pointer offset of {@code rt0 * G * 1536} (weights) and {@code rt0 * G * 32} (scales), and the full product's kernel
 * runs on them with N = the covered rows. Rows of the cover outside {@code [rowFrom, rowTo)} are computed and dropped
 * (fewer than 16 on each side).
 *
 * @param coverFrom first covered row, a multiple of 16, at most rowFrom
 * @param coverTo   end of the cover: the next multiple of 16 from rowTo, or R if that is smaller
 */
record TileRange(int coverFrom, int coverTo, long weightOffset, long scaleOffset) {

    static final int TILE_ROWS = 16;

    /** The cover of the non-empty range {@code [rowFrom, rowTo)} of a {@code rows x cols} matrix. */
    static TileRange of(int rowFrom, int rowTo, int rows, int cols) {
        if (rowFrom < 0 || rowFrom >= rowTo || rowTo > rows || cols <= 0) {
            throw new IndexOutOfBoundsException("row range [" + rowFrom + ", " + rowTo + ") of a " + rows + " x " + cols
                    + " matrix: need 0 <= from < to <= rows");
        }
        int firstTile = rowFrom / TILE_ROWS;
        int coverTo = (int) Math.min(rows, ((long) rowTo + TILE_ROWS - 1) / TILE_ROWS * TILE_ROWS);
        long tileRow = FlexqKernels.tileBytes(TILE_ROWS, cols);        // G * 1536: one row of tiles
        long scaleRow = FlexqKernels.scaleTileBytes(TILE_ROWS, cols);  // G * 32
        return new TileRange(firstTile * TILE_ROWS, coverTo, firstTile * tileRow, firstTile * scaleRow);
    }

    int rows() {
        return coverTo - coverFrom;
    }

    /** Bytes of the weight tiles the launch reads, from {@link #weightOffset()}. */
    long weightBytes(int cols) {
        return FlexqKernels.tileBytes(rows(), cols);
    }

    /** Bytes of the scale tiles the launch reads, from {@link #scaleOffset()}. */
    long scaleBytes(int cols) {
        return FlexqKernels.scaleTileBytes(rows(), cols);
    }
}
