package io.flexq.runtime.spi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A batch of activations, {@code tokens} rows of {@code dim} floats, off-heap and row-major:
 * element (t, i) is the float at byte offset {@code 4 * (t * dim + i)} of {@link #data()}.
 *
 * <p>A batch can carry <em>derived forms</em> of its contents, for example FlexQ's A6/A8 codes with
 * per-token-group scales, so a layer input is quantized once and shared by every matrix that reads
 * it (q, k and v; gate and up). Derived forms are dropped whenever the contents change: by
 * {@link #set}, {@link #setRow}, {@link #setTokens}, or {@link #changed()}, which a caller who writes
 * through {@link #data()} directly must call.
 *
 * <p>A dropped form can leave its storage for the next contents' form ({@link #spare}): a prompt's quantized
 * activations are up to megabytes per matmul, and allocating them afresh each time was a fifth of a 27M prompt
 * (garbage collection of humongous arrays, bench/results/cpu-vs-llamacpp.md). A derived form is therefore valid only
 * until the contents change.
 */
public final class ActivationBatch {

    private final MemorySegment data;
    private final int capacity;
    private final int dim;
    private int tokens;
    private final Map<Object, Object> derived = new HashMap<>();
    private final Map<Object, Object> spares = new HashMap<>();

    private ActivationBatch(MemorySegment data, int capacity, int dim) {
        this.data = data;
        this.capacity = capacity;
        this.dim = dim;
        this.tokens = capacity;
    }

    /** A zeroed batch of room for {@code capacity} tokens of {@code dim} floats, owned by {@code arena}. */
    public static ActivationBatch allocate(Arena arena, int capacity, int dim) {
        if (capacity <= 0 || dim <= 0) {
            throw new IllegalArgumentException("batch needs capacity > 0 and dim > 0, got " + capacity + " x " + dim);
        }
        long bytes = Math.multiplyExact(Math.multiplyExact((long) capacity, dim), Float.BYTES);
        return new ActivationBatch(arena.allocate(bytes, 64), capacity, dim);
    }

    /** Wraps an existing segment of at least {@code capacity * dim} floats. */
    public static ActivationBatch wrap(MemorySegment data, int capacity, int dim) {
        if (data.byteSize() < (long) capacity * dim * Float.BYTES) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is smaller than " + capacity + " x " + dim + " floats");
        }
        return new ActivationBatch(data, capacity, dim);
    }

    public int tokens() {
        return tokens;
    }

    public int dim() {
        return dim;
    }

    public int capacity() {
        return capacity;
    }

    /** Uses the first {@code n} token rows of this batch from now on. */
    public void setTokens(int n) {
        Objects.checkIndex(n - 1, capacity);
        tokens = n;
        changed();
    }

    /** The whole backing segment (capacity rows); only the first {@link #tokens()} rows are live. */
    public MemorySegment data() {
        return data;
    }

    public long offsetOf(int token, int index) {
        return 4L * ((long) token * dim + index);
    }

    public float get(int token, int index) {
        return data.get(ValueLayout.JAVA_FLOAT, offsetOf(token, index));
    }

    public void set(int token, int index, float value) {
        data.set(ValueLayout.JAVA_FLOAT, offsetOf(token, index), value);
        changed();
    }

    public void setRow(int token, float[] src, int srcOffset) {
        MemorySegment.copy(src, srcOffset, data, ValueLayout.JAVA_FLOAT, offsetOf(token, 0), dim);
        changed();
    }

    public void getRow(int token, float[] dst, int dstOffset) {
        MemorySegment.copy(data, ValueLayout.JAVA_FLOAT, offsetOf(token, 0), dst, dstOffset, dim);
    }

    /** Declares that the contents changed, dropping every derived form. */
    public void changed() {
        if (!derived.isEmpty()) {
            derived.clear();
        }
    }

    /**
     * A derived form of the current contents under {@code key}, computed once until the contents change.
     * Keys should be records or constants that identify the form (e.g. "A8, group 128").
     */
    /**
     * Storage for a derived form under {@code key}: what the last computation of that form left with
     * {@link #keepSpare}, or null. A computation runs only when the form is absent, that is after the contents
     * changed, so the form that left it is no longer handed out by {@link #derived}.
     */
    public Object spare(Object key) {
        return spares.get(key);
    }

    /** Leaves {@code storage} for the next computation of the derived form under {@code key} ({@link #spare}). */
    public void keepSpare(Object key, Object storage) {
        spares.put(key, storage);
    }

    @SuppressWarnings("unchecked")
    public <T> T derived(Object key, Function<ActivationBatch, T> compute) {
        Object value = derived.get(key);
        if (value == null) {
            value = compute.apply(this);
            derived.put(key, value);
        }
        return (T) value;
    }
}
