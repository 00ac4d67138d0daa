package io.flexq.cuda;

import io.flexq.runtime.spi.ActivationBatch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One matrix's whole product for one input, kept while the row chunks of that product are served from it.
 *
 * <p>Why: a host that splits each layer into row chunks on several threads (Jlama: one chunk per core, every chunk
 * with the same input) would otherwise pay one host -> device -> host round trip per chunk, each with its own input
 * copy and quantization, serialized on the device. Here the first chunk to arrive runs the whole product once (one
 * round trip) and the others copy their rows, so a chunked matmul costs what an unchunked one does. Each row is the
 * whole product's row, bit for bit, by construction.
 *
 * <p>The key is a copy of the input's live bytes, compared in full: a batch reused with new contents misses, another
 * batch with equal contents hits (the product is a function of the bytes). The product is dropped once as many rows
 * as the matrix has were handed out, so memory is held only between the chunks of one call (a caller that never
 * asks for every row keeps one product until the next input replaces it). Callers that ask for the same input's
 * rows again after that pay another product: correct, only slower.
 */
final class SharedProduct {

    /** Writes the whole product of {@code in} ({@code tokens x rows} floats, row-major) into {@code y}. */
    @FunctionalInterface
    interface Whole {
        void compute(ActivationBatch in, MemorySegment y);
    }

    private final int rows;
    private final int cols;
    private byte[] key;
    private int tokens;
    private float[] y;
    private long served;
    private long products;

    SharedProduct(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** Rows {@code [rowFrom, rowTo)} of the product of {@code in} into the same rows of {@code out} (shapes checked by the caller). */
    synchronized void serve(ActivationBatch in, ActivationBatch out, int rowFrom, int rowTo, Whole whole) {
        int m = in.tokens();
        long inBytes = (long) m * cols * Float.BYTES;
        MemorySegment live = in.data().asSlice(0, inBytes);
        if (y == null || tokens != m || MemorySegment.mismatch(MemorySegment.ofArray(key), 0, key.length, live, 0, inBytes) != -1) {
            float[] fresh = new float[Math.multiplyExact(m, rows)];
            whole.compute(in, MemorySegment.ofArray(fresh));
            key = live.toArray(ValueLayout.JAVA_BYTE);
            tokens = m;
            y = fresh;
            served = 0;
            products++;
        }
        int n = rowTo - rowFrom;
        for (int t = 0; t < m; t++) {
            MemorySegment.copy(y, t * rows + rowFrom, out.data(), ValueLayout.JAVA_FLOAT, out.offsetOf(t, rowFrom), n);
        }
        served += n;
        if (served >= rows) {
            key = null;
            y = null;
        }
    }

    /** Whole products run so far (tests: chunks of one call share one). */
    synchronized long products() {
        return products;
    }

    /** Whether a product is held now (tests: released after every row was served). */
    synchronized boolean holding() {
        return y != null;
    }
}
