package io.flexq.cuda;

import java.util.Locale;

/**
 * How a {@link CudaFq6Matrix} serves {@code matmul(in, out, rowFrom, rowTo)} ({@code -Dflexq.cuda.rowRanges}):
 * <ul>
 * <li>{@code shared} (default): the chunks of one call share one whole product ({@link SharedProduct}); one round
 *   trip per call however the host chunks it.</li>
 * <li>{@code launch}: each range is its own launch on the tiles that hold it ({@link TileRange}): one round trip per
 *   chunk, weights read once in all. W6A16 matrices (planar FQ6 bytes, no tile offset) take {@code shared}.</li>
 * <li>{@code whole}: the SPI's default, a whole product per chunk and its rows copied (for A/B runs only).</li>
 * </ul>
 * Every row is bit for bit the whole product's row whenever the whole product is itself reproducible: always in
 * {@code shared} and {@code whole}; in {@code launch} for the GEMM, the ordered GEMV and GEMVs of at most two K-splits
 * (a GEMV of three or more splits adds them with atomics in varying order, so even two whole products of it may differ
 * in the last bits; a range then agrees within the contract's bound for split sums).
 */
enum RowRanges {
    SHARED, LAUNCH, WHOLE;

    static final String PROPERTY = "flexq.cuda.rowRanges";

    static RowRanges fromProperty() {
        return parse(System.getProperty(PROPERTY, "shared"));
    }

    static RowRanges parse(String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "shared" -> SHARED;
            case "launch" -> LAUNCH;
            case "whole" -> WHOLE;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected shared, launch or whole");
        };
    }
}
