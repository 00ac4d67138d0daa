package io.flexq.jlama;

import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.operations.TensorOperations;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Jlama's {@link TensorOperations} with matrix products on {@link Fq6Tensor}s routed to FlexQ; every other
 * call goes to the operations Jlama picked ({@code delegate}) unchanged.
 *
 * <p>Jlama splits each linear layer into row chunks ({@code VectorMath.pchunk}) and calls
 * {@code dotProductChunk} / {@code dotProductBatchChunk} / {@code batchDotProduct} once per chunk on its
 * worker threads. Each such call becomes one single-threaded FlexQ row-range product
 * ({@link WeightMatrix#matmul(ActivationBatch, ActivationBatch, int, int)}) over that chunk's rows: no copy of
 * the weights, and every output row is what the whole-matrix product gives (bit for bit in W6A6 / W6A8).
 *
 * <ul>
 * <li>Activations: F32 (what Jlama uses when the loader reports an F32 model) are read in place and
 *   quantized to A6/A8 by FlexQ itself. Other input types (Jlama's I8 blocks of 32 when it was asked to
 *   quantize working memory, BF16) are dequantized element by element first and counted in the summary:
 *   FlexQ then quantizes Jlama's already-rounded values.</li>
 * <li>Refused with a message: column slices or sparse tensors (Jlama's sharded / distributed mode), and any
 *   FQ6 tensor about to reach the delegate.</li>
 * <li>{@link #parallelSplitSize()} is at least 2: Jlama 0.8.4 turns a split size of 1 into one call per row.</li>
 * </ul>
 */
public final class FlexqOperations implements TensorOperations {

    private final TensorOperations delegate;
    private final Routing routing;

    public FlexqOperations(TensorOperations delegate, Routing routing) {
        if (delegate instanceof FlexqOperations) {
            throw new IllegalArgumentException("flexq-jlama: operations are already wrapped");
        }
        this.delegate = delegate;
        this.routing = routing;
    }

    public TensorOperations delegate() {
        return delegate;
    }

    public Routing routing() {
        return routing;
    }

    @Override
    public String name() {
        return "FlexQ FQ6 + " + delegate.name();
    }

    @Override
    public int parallelSplitSize() {
        return Math.max(2, delegate.parallelSplitSize());
    }

    @Override
    public float dotProduct(AbstractTensor a, AbstractTensor b, int limit) {
        return dotProduct(a, b, 0, 0, limit);
    }

    @Override
    public float dotProduct(AbstractTensor a, AbstractTensor b, int aoffset, int boffset, int limit) {
        passOn(a, b);
        return delegate.dotProduct(a, b, aoffset, boffset, limit);
    }

    @Override
    public void batchDotProduct(AbstractTensor result, AbstractTensor a, AbstractTensor b, int aColumnOffset, int bColumnOffset, int columnLimit) {
        if (b instanceof Fq6Tensor f) {
            fq6(result, a, f, aColumnOffset, bColumnOffset, columnLimit, 0, 0, f.shape().first());
            return;
        }
        passOn(result, a);
        delegate.batchDotProduct(result, a, b, aColumnOffset, bColumnOffset, columnLimit);
    }

    @Override
    public void batchDotProduct(AbstractTensor result, AbstractTensor a, AbstractTensor b, int aColumnOffset, int bColumnOffset,
                                int columnLimit, int rRowOffset, int bRowOffset, int rowChunkSize) {
        if (b instanceof Fq6Tensor f) {
            fq6(result, a, f, aColumnOffset, bColumnOffset, columnLimit, rRowOffset, bRowOffset, rowChunkSize);
            return;
        }
        passOn(result, a);
        delegate.batchDotProduct(result, a, b, aColumnOffset, bColumnOffset, columnLimit, rRowOffset, bRowOffset, rowChunkSize);
    }

    @Override
    public void dotProductChunk(AbstractTensor result, AbstractTensor a, AbstractTensor b, int columnOffset, int columnLimit,
                                int rowOffset, int rowChunkSize) {
        if (b instanceof Fq6Tensor f) {
            fq6(result, a, f, columnOffset, columnOffset, columnLimit, 0, rowOffset, rowChunkSize);
            return;
        }
        passOn(result, a);
        delegate.dotProductChunk(result, a, b, columnOffset, columnLimit, rowOffset, rowChunkSize);
    }

    @Override
    public void dotProductBatchChunk(AbstractTensor[] result, AbstractTensor a, AbstractTensor[] b, int offset, int limit,
                                     int chunkStart, int chunkSize) {
        boolean anyFq6 = false;
        for (AbstractTensor t : b) {
            anyFq6 |= t instanceof Fq6Tensor;
        }
        if (!anyFq6) {
            passOn(a);
            delegate.dotProductBatchChunk(result, a, b, offset, limit, chunkStart, chunkSize);
            return;
        }
        if (result.length != b.length) {
            throw new IllegalArgumentException("flexq-jlama: dotProductBatchChunk with " + result.length + " results for " + b.length + " weights");
        }
        for (int j = 0; j < b.length; j++) {
            dotProductChunk(result[j], a, b[j], offset, limit, chunkStart, chunkSize);
        }
    }

    @Override
    public void accumulate(AbstractTensor a, AbstractTensor b, int offset, int length) {
        passOn(a, b);
        delegate.accumulate(a, b, offset, length);
    }

    @Override
    public void maccumulate(AbstractTensor a, AbstractTensor b, int offset, int length) {
        passOn(a, b);
        delegate.maccumulate(a, b, offset, length);
    }

    @Override
    public void saxpy(float alpha, AbstractTensor x, AbstractTensor y, int xoffset, int yoffset, int limit) {
        passOn(x, y);
        delegate.saxpy(alpha, x, y, xoffset, yoffset, limit);
    }

    @Override
    public void saxpy(AbstractTensor alpha, AbstractTensor x, AbstractTensor y, int xoffset, int yoffset, int limit, int aOffset,
                      int xRowOffset, int batchSize) {
        passOn(alpha, x, y);
        delegate.saxpy(alpha, x, y, xoffset, yoffset, limit, aOffset, xRowOffset, batchSize);
    }

    @Override
    public void scale(float factor, AbstractTensor x, int offset, int length) {
        passOn(x);
        delegate.scale(factor, x, offset, length);
    }

    @Override
    public AbstractTensor quantize(AbstractTensor t, DType qtype, int offset, int length) {
        passOn(t);
        return delegate.quantize(t, qtype, offset, length);
    }

    @Override
    public float sum(AbstractTensor a) {
        passOn(a);
        return delegate.sum(a);
    }

    /** Counts a call for the delegate, refusing FQ6 tensors (Jlama's kernels cannot read them). */
    private void passOn(AbstractTensor... tensors) {
        for (AbstractTensor t : tensors) {
            if (t instanceof Fq6Tensor f) {
                routing.fq6ReachedJlama();
                throw new UnsupportedOperationException("flexq-jlama: " + f.name() + " (FQ6) reached an operation FlexQ does not serve; "
                        + "only matrix products with FQ6 weights are supported");
            }
        }
        routing.jlama();
    }

    /** result[i][j + rOffset] = dot(a[i], W[j]) for rows j in [bRow, bRow + rows), all i. */
    private void fq6(AbstractTensor result, AbstractTensor a, Fq6Tensor b, int aCol, int bCol, int columns, int rOffset, int bRow, int rows) {
        WeightMatrix w = b.matrix();
        if (aCol != 0 || bCol != 0 || columns != w.cols() || a.shape().isSparse() || result.shape().isSparse()) {
            throw new UnsupportedOperationException("flexq-jlama: " + b.name() + " was asked for columns [" + bCol + ", " + (bCol + columns)
                    + ") of " + w.cols() + " (input offset " + aCol + "): sharded / distributed Jlama is not supported with FQ6 weights");
        }
        if (a.dims() != 2 || result.dims() != 2 || a.shape().last() != w.cols() || result.shape().first() != a.shape().first()) {
            throw new IllegalArgumentException("flexq-jlama: " + b.name() + " (" + w.rows() + "x" + w.cols() + ") cannot multiply input "
                    + a.shape() + " into " + result.shape());
        }
        if (bRow < 0 || rows < 0 || bRow + rows > w.rows() || rOffset + bRow + rows > result.shape().last()) {
            throw new IndexOutOfBoundsException("flexq-jlama: " + b.name() + ": rows [" + bRow + ", " + (bRow + rows) + ") at result offset "
                    + rOffset + " do not fit " + w.rows() + " rows / result " + result.shape());
        }
        int tokens = a.shape().first();
        String describe = w.describe();
        routing.flexq(b.name(), tokens, rows, describe.substring(0, Math.max(0, describe.indexOf(' '))));
        try (Arena arena = Arena.ofConfined()) {
            ActivationBatch in = input(a, tokens, w.cols(), arena);
            boolean direct = result instanceof FloatBufferTensor && rOffset == 0 && result.shape().last() == w.rows();
            ActivationBatch out = direct ? ActivationBatch.wrap(result.getMemorySegment(), tokens, w.rows())
                    : ActivationBatch.allocate(arena, tokens, w.rows());
            w.matmul(in, out, bRow, bRow + rows);
            if (!direct) {
                for (int t = 0; t < tokens; t++) {
                    for (int r = bRow; r < bRow + rows; r++) {
                        result.set(out.get(t, r), t, r + rOffset);
                    }
                }
            }
        }
    }

    /** The input rows as an F32 batch: Jlama's own memory for F32, a dequantized copy otherwise. */
    private ActivationBatch input(AbstractTensor a, int tokens, int cols, Arena arena) {
        if (a instanceof FloatBufferTensor) {
            return ActivationBatch.wrap(a.getMemorySegment(), tokens, cols);
        }
        routing.dequantizedInput();
        ActivationBatch in = ActivationBatch.allocate(arena, tokens, cols);
        MemorySegment d = in.data();
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                d.setAtIndex(ValueLayout.JAVA_FLOAT, (long) t * cols + c, a.get(t, c));
            }
        }
        in.changed();
        return in;
    }
}
