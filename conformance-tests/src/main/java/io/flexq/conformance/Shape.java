package io.flexq.conformance;

import io.flexq.runtime.spi.TensorType;

import java.util.ArrayList;
import java.util.List;

/** One matmul shape: a weight of {@code rows} outputs by {@code cols} inputs, applied to {@code tokens} tokens. */
public record Shape(int rows, int cols, int tokens) {

    public Shape {
        if (rows <= 0 || cols <= 0 || tokens <= 0) {
            throw new IllegalArgumentException("shape needs positive sizes, got " + rows + " x " + cols + ", " + tokens + " tokens");
        }
    }

    /** Token counts: one (a decode step), a few, and a batch that is not a multiple of any vector or tile width. */
    public static final int[] TOKENS = {1, 3, 17};
    /** Row counts: odd, so row blocking and chunking of every width leave a remainder. */
    public static final int[] ROWS = {1, 7, 67};

    /**
     * The shapes a type is tested at: {@link #ROWS} x {@link #TOKENS} x column counts valid for the type.
     * Plain float types (block 1) get 1, 7, 64 and 333 columns (vector tails); block types get 1, 2 and 3
     * blocks; types that allow a partial last block (FQ6) get 1, 100, 128, 200 and 401 columns.
     */
    public static List<Shape> forType(TensorType type) {
        int b = type.blockSize();
        int[] cols;
        if (b == 1) {
            cols = new int[] {1, 7, 64, 333};
        } else if (type.allowsPartialBlocks()) {
            cols = new int[] {1, b * 100 / 128, b, b + b / 2 + 8, 3 * b + 17};
        } else {
            cols = new int[] {b, 2 * b, 3 * b};
        }
        List<Shape> shapes = new ArrayList<>();
        for (int c : cols) {
            for (int r : ROWS) {
                for (int t : TOKENS) {
                    shapes.add(new Shape(r, c, t));
                }
            }
        }
        return shapes;
    }

    @Override
    public String toString() {
        return rows + "x" + cols + " (rows x cols), " + tokens + " token" + (tokens == 1 ? "" : "s");
    }
}
