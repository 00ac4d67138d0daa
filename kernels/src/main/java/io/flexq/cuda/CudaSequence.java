package io.flexq.cuda;

import io.flexq.runtime.spi.DecoderOffload;

/**
 * One sequence of a {@link CudaModel}: its fp16 KV cache on the device (layout in decoder.cu: slab (layer, k|v) of
 * {@link #allocatedPositions()} rows), grown by doubling up to the context length, and the position reached.
 */
final class CudaSequence implements DecoderOffload.Sequence {

    private static final int FIRST_ALLOCATION = 256;

    private final CudaModel model;
    private final int capacity;
    private DeviceBuffer cache;
    private int allocated;
    private int position;
    private float[][] logits;
    private boolean closed;

    CudaSequence(CudaModel model, int capacity) {
        this.model = model;
        this.capacity = capacity;
    }

    CudaModel model() {
        return model;
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public void rewind(int p) {
        if (p < 0 || p > position) {
            throw new IllegalArgumentException("cannot rewind to " + p + ": the sequence is at " + position);
        }
        position = p;
    }

    @Override
    public int forward(int[] tokens, int off, int n, DecoderOffload.Want want) {
        ensureOpen();
        if (n <= 0 || (long) position + n > capacity) {
            throw new IllegalArgumentException("forward of " + n + " tokens at position " + position + " does not fit the context of " + capacity);
        }
        return model.forward(this, tokens, off, n, want);
    }

    @Override
    public void logits(int row, float[] dst) {
        if (logits == null || row < 0 || row >= logits.length) {
            throw new IllegalStateException("no logits of row " + row + ": the last forward kept " + (logits == null ? 0 : logits.length) + " rows");
        }
        System.arraycopy(logits[row], 0, dst, 0, dst.length);
    }

    void keepLogits(float[][] rows) {
        logits = rows;
    }

    void advance(int n) {
        position += n;
    }

    int allocatedPositions() {
        return allocated;
    }

    long cacheAddress() {
        return cache.address();
    }

    /** Makes the cache hold at least {@code positions} positions (called by the model, on its stream's thread). */
    void ensureCache(int positions) {
        ensureOpen();
        if (positions <= allocated) {
            return;
        }
        if (positions > capacity) {
            throw new IllegalArgumentException("position " + (positions - 1) + " is past the context of " + capacity);
        }
        int grown = (int) Math.min(capacity, Math.max(positions, Math.max(FIRST_ALLOCATION, 2L * allocated)));
        long rowBytes = (long) model.c.kvDim() * 2;
        int slabs = 2 * model.c.layers();
        DeviceBuffer next = model.dev.alloc(slabs * grown * rowBytes, "KV cache of " + grown + " positions");
        if (cache != null) {
            for (int s = 0; s < slabs; s++) {
                int slab = s;
                model.stream().copy(next.address() + slab * grown * rowBytes, cache.address() + slab * allocated * rowBytes,
                        position * rowBytes, () -> "growing a KV cache (slab " + slab + ")");
            }
            model.stream().synchronize(() -> "growing a KV cache to " + grown + " positions");
            cache.close();
        }
        cache = next;
        allocated = grown;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the sequence is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (model) {
            if (cache != null) {
                model.dev.makeCurrent();
                cache.close();
                cache = null;
            }
            model.sequenceClosed();
        }
    }
}
