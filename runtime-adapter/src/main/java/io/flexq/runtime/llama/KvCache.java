package io.flexq.runtime.llama;

import io.flexq.runtime.cpu.SpinTeam;

import java.util.Arrays;

/**
 * The keys and values of every layer of one CPU session: per layer, row j (kvDim elements) holds position j, the
 * rows grown on demand (doubling) up to the session's capacity. Two element types:
 * <ul>
 *   <li>{@link F32}: floats, read by every attention path;</li>
 *   <li>{@link F16}: IEEE half floats (llama.cpp's default cache type), read by the native attention only. At a
 *       long context a decode step's attention streams the whole cache of every layer, so half the bytes is most of
 *       its time; each stored key and value is rounded to the nearest half (relative error at most 2^-11, values
 *       beyond 65504 become infinite), the arithmetic on them stays float. Each key/value head's rows lie together
 *       (head g's row j at (g * rows + j) * headSize), so an attention task streams one contiguous block instead of
 *       a headSize slice of every kvDim row.</li>
 * </ul>
 * {@link #create} picks one by {@value #PROPERTY} ({@code f16} or {@code f32}, default {@value #DEFAULT}, as llama.cpp);
 * F16 only where the native attention runs for the head size, else F32. At a 512-token depth the fp16 cache made the
 * 27M model's FQ6 decode 1.36-1.49x faster than fp32 (bench/results/cpu-vs-llamacpp.md); {@code -Dflexq.cpu.kv=f32}
 * keeps float keys and values (the runtime's exactness tests against fp32 references use it).
 */
sealed interface KvCache permits KvCache.F32, KvCache.F16 {

    /** System property choosing the cache's element type: {@code f16} or {@code f32}. */
    String PROPERTY = "flexq.cpu.kv";
    String DEFAULT = "f16";

    /** A cache for {@code layers} layers of config c, at most {@code capacity} positions, of the type asked for. */
    static KvCache create(LlamaConfig c, int layers, int capacity) {
        return typeFor(c).equals("f16") ? new F16(c, layers, capacity) : new F32(c, layers, capacity);
    }

    /** The element type {@link #create} picks for config c now: "f16" or "f32". */
    static String typeFor(LlamaConfig c) {
        String type = System.getProperty(PROPERTY, DEFAULT);
        return switch (type) {
            case "f32" -> "f32";
            case "f16" -> NativeLlamaCpu.get().runs(c.headSize()) ? "f16" : "f32";
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + type + ": expected f16 or f32");
        };
    }

    /**
     * Whether a new session of config c with {@code layers} layers and {@code capacity} positions can take this cache
     * over from a closed one (same shape and element type): its rows are kept, not cleared, because a session reads
     * only rows it has written ({@link #attend} reads rows [0, pos + n) after {@link #write} of rows [pos, pos + n)).
     */
    boolean reusableFor(LlamaConfig c, int layers, int capacity);

    /** Grows every layer's rows to hold at least {@code rows} positions. */
    void ensure(int rows);

    /**
     * Writes n rows of rotated keys k[0, n * kvDim) and values v[0, n * kvDim) at positions [position, position + n)
     * of {@code layer} (rows already {@link #ensure}d).
     */
    default void write(int layer, float[] k, float[] v, int position, int n) {
        write(layer, k, v, position, 0, n);
    }

    /**
     * Writes rows [t0, t1) of k and v (row t: elements [t * kvDim, (t + 1) * kvDim)) at positions position + t: a
     * prompt's token ranges write their rows from several threads at once (disjoint rows, the same bits).
     */
    void write(int layer, float[] k, float[] v, int position, int t0, int t1);

    /** Attention of n query rows at positions [pos, pos + n) over {@code layer}'s rows [0, pos + n), as {@link Attention#attend}. */
    void attend(int layer, float[] q, int n, int pos, float[] out, SpinTeam team);

    /** The element type, for logs: "f32" or "f16". */
    String type();

    /** New row count for {@code rows} positions: doubling from 16, at most capacity; fails if it cannot be one array. */
    private static int grown(LlamaConfig c, int capacity, int current, int rows) {
        long grown = Math.min(capacity, Math.max(rows, Math.max(16L, 2L * current)));
        if (grown * c.kvDim() > Integer.MAX_VALUE - 8) {
            throw new ContextLengthException("a KV cache of " + grown + " positions x " + c.kvDim()
                    + " elements per layer does not fit in a Java array; use a shorter context");
        }
        return (int) grown;
    }

    final class F32 implements KvCache {
        private final LlamaConfig c;
        private final int capacity;
        private final float[][] keys, values;
        private int rows;

        F32(LlamaConfig c, int layers, int capacity) {
            this.c = c;
            this.capacity = capacity;
            this.keys = new float[layers][0];
            this.values = new float[layers][0];
        }

        @Override
        public void ensure(int wanted) {
            if (wanted <= rows) {
                return;
            }
            rows = grown(c, capacity, rows, wanted);
            for (int l = 0; l < keys.length; l++) {
                keys[l] = Arrays.copyOf(keys[l], rows * c.kvDim());
                values[l] = Arrays.copyOf(values[l], rows * c.kvDim());
            }
        }

        @Override
        public void write(int layer, float[] k, float[] v, int position, int t0, int t1) {
            int d = c.kvDim();
            System.arraycopy(k, t0 * d, keys[layer], (position + t0) * d, (t1 - t0) * d);
            System.arraycopy(v, t0 * d, values[layer], (position + t0) * d, (t1 - t0) * d);
        }

        @Override
        public void attend(int layer, float[] q, int n, int pos, float[] out, SpinTeam team) {
            Attention.attend(c, q, n, pos, keys[layer], values[layer], out, team);
        }

        @Override
        public String type() {
            return "f32";
        }

        @Override
        public boolean reusableFor(LlamaConfig config, int layers, int capacity) {
            return config.equals(c) && keys.length == layers && this.capacity == capacity && typeFor(config).equals(type());
        }
    }

    final class F16 implements KvCache {
        private final LlamaConfig c;
        private final int capacity;
        private final short[][] keys, values;
        private int rows;

        F16(LlamaConfig c, int layers, int capacity) {
            this.c = c;
            this.capacity = capacity;
            this.keys = new short[layers][0];
            this.values = new short[layers][0];
        }

        @Override
        public void ensure(int wanted) {
            if (wanted <= rows) {
                return;
            }
            int old = rows;
            rows = grown(c, capacity, rows, wanted);
            for (int l = 0; l < keys.length; l++) {
                keys[l] = regrow(keys[l], old);
                values[l] = regrow(values[l], old);
            }
        }

        /** The same heads' rows [0, old) in an array of the new row count (each head's block moves). */
        private short[] regrow(short[] from, int old) {
            int hs = c.headSize();
            short[] to = new short[rows * c.kvDim()];
            for (int g = 0; g < c.kvHeads(); g++) {
                System.arraycopy(from, g * old * hs, to, g * rows * hs, old * hs);
            }
            return to;
        }

        @Override
        public void write(int layer, float[] k, float[] v, int position, int t0, int t1) {
            int hs = c.headSize();
            for (int t = t0; t < t1; t++) {
                for (int g = 0; g < c.kvHeads(); g++) {
                    int src = t * c.kvDim() + g * hs, dst = (g * rows + position + t) * hs;
                    toHalf(k, src, keys[layer], dst, hs);
                    toHalf(v, src, values[layer], dst, hs);
                }
            }
        }

        /** dst[off + i] = the half nearest src[from + i] (ties to even), for i in [0, count). */
        static void toHalf(float[] src, int from, short[] dst, int off, int count) {
            for (int i = 0; i < count; i++) {
                dst[off + i] = Float.floatToFloat16(src[from + i]);
            }
        }

        @Override
        public void attend(int layer, float[] q, int n, int pos, float[] out, SpinTeam team) {
            Attention.attend(c, q, n, pos, keys[layer], values[layer], c.headSize(), (long) rows * c.headSize(), out, team);
        }

        @Override
        public String type() {
            return "f16";
        }

        @Override
        public boolean reusableFor(LlamaConfig config, int layers, int capacity) {
            return config.equals(c) && keys.length == layers && this.capacity == capacity && typeFor(config).equals(type());
        }
    }
}
