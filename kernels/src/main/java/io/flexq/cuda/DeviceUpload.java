package io.flexq.cuda;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.Q8_0Type;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Puts a model's tensors on the device in the forms the decoder runs:
 * <ul>
 *   <li>FQ6 (type 1030): repacked on the device into INT8-MMA tiles (W6A6 / W6A8 by {@code flexq.act_bits.<name>},
 *       default A8) or kept as stored (W6A16);</li>
 *   <li>F16 and F32: as stored (F32 only when its rows are a multiple of 4 floats, F16 of 8 halves);</li>
 *   <li>any other registered type (BF16, Q8_0, Q4_0, Q6_K, ...): dequantized on the host by its own row decoder and
 *       stored as F16 (F32 where the row length does not suit F16); the device then runs it as an F16 model.</li>
 * </ul>
 * Matrices that read one input (q, k, v; gate, up) are stacked into one when their forms agree.
 */
final class DeviceUpload {

    private static final int F32_ID = 0, F16_ID = 1;

    private final CudaDevice dev;
    private final FlexqKernels k;
    private final Dispatcher dispatcher;
    private final ModelFile file;
    private final Map<String, Object> metadata;
    private final CublasGemm blas;
    private final Consumer<String> log;
    private long uploaded;

    DeviceUpload(CudaDevice dev, FlexqKernels k, Dispatcher dispatcher, ModelFile file, CublasGemm blas, Consumer<String> log) {
        this.dev = dev;
        this.k = k;
        this.dispatcher = dispatcher;
        this.file = file;
        this.metadata = file.metadata().asMap();
        this.blas = blas;
        this.log = log;
    }

    long uploadedBytes() {
        return uploaded;
    }

    /** How a tensor will be stored on the device. */
    enum Form { FQ6, F16, F32 }

    static Form form(TensorType type, long cols) {
        if (type.id() == Fq6Layout.TYPE_ID) {
            return Form.FQ6;
        }
        if (type.id() == F32_ID && cols % 4 == 0) {
            return Form.F32;
        }
        return cols % 8 == 0 ? Form.F16 : cols % 4 == 0 ? Form.F32 : null;
    }

    /** Device bytes the tensor will take (for the memory check before loading). */
    static long deviceBytes(TensorEntry t) {
        Form f = form(t.type(), t.cols());
        int rows = (int) t.rows(), cols = (int) t.cols();
        return switch (f) {
            case FQ6 -> FlexqKernels.tileBytes(rows, cols) + FlexqKernels.scaleTileBytes(rows, cols);
            case F16 -> 2L * rows * cols;
            case F32 -> 4L * rows * cols;
            case null -> 0;
        };
    }

    /** The matrices {@code names} (each cols inputs by rows[i] outputs), stacked when their forms agree. */
    Projection projection(String[] names, int cols, int[] rows) {
        return projection(names, cols, rows, false);
    }

    /**
     * The same; with {@code interleave}, two FQ6 matrices of equal height (a multiple of 128) stack in alternating
     * 128-row groups ({@link Projection#interleaved}: gate and up, for the matmul that finishes SwiGLU groups itself).
     */
    Projection projection(String[] names, int cols, int[] rows, boolean interleave) {
        TensorEntry[] t = new TensorEntry[names.length];
        for (int i = 0; i < names.length; i++) {
            t[i] = file.tensor(names[i]);
        }
        Form f0 = form(t[0].type(), cols);
        int bits0 = f0 == Form.FQ6 ? bits(names[0]) : 0;
        boolean same = true;
        int total = 0;
        for (int i = 0; i < names.length; i++) {
            Form f = form(t[i].type(), cols);
            same &= f == f0 && (f != Form.FQ6 || bits(names[i]) == bits0 && bits0 != 16 && rows[i] % 16 == 0);
            total += rows[i];
        }
        if (!same) {
            List<DeviceLinear> parts = new ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                parts.add(linear(names[i], cols, rows[i]));
            }
            return new Projection(parts, rows);
        }
        String name = String.join("+", names);
        boolean interleaved = interleave && f0 == Form.FQ6 && names.length == 2 && rows[0] == rows[1] && rows[0] % 128 == 0;
        DeviceLinear stacked = switch (f0) {
            case FQ6 -> {
                DeviceBuffer tiles = dev.alloc(FlexqKernels.tileBytes(total, cols), name + " int8 tiles");
                DeviceBuffer scales = dev.alloc(FlexqKernels.scaleTileBytes(total, cols), name + " scale tiles");
                if (interleaved) {
                    repackInterleaved(t, rows[0], cols, tiles, scales);
                    yield new Fq6Linear(name, total, cols, bits0, tiles, scales, null, dispatcher);
                }
                int off = 0;
                for (int i = 0; i < names.length; i++) {
                    repackInto(t[i], rows[i], cols, tiles.view(FlexqKernels.tileBytes(off, cols), FlexqKernels.tileBytes(rows[i], cols)),
                            scales.view(FlexqKernels.scaleTileBytes(off, cols), FlexqKernels.scaleTileBytes(rows[i], cols)));
                    off += rows[i];
                }
                yield new Fq6Linear(name, total, cols, bits0, tiles, scales, null, dispatcher);
            }
            case F16, F32 -> {
                int esize = f0 == Form.F16 ? 2 : 4;
                DeviceBuffer w = dev.alloc((long) total * cols * esize, name + " " + f0);
                long off = 0;
                for (int i = 0; i < names.length; i++) {
                    uploadFloat(t[i], rows[i], cols, f0, w, off);
                    off += (long) rows[i] * cols * esize;
                }
                yield new FloatLinear(name, total, cols, f0 == Form.F16, w, blas);
            }
        };
        return new Projection(List.of(stacked), rows, interleaved);
    }

    /**
     * Matrices t[0] and t[1] (rows x cols each, FQ6) repacked into tiles / scales in alternating 128-row groups: group g
     * of t[i] at stacked rows [256 g + 128 i, + 128). Each group is cut from the file's layout (its codes and its scales
     * planes) into a raw buffer of 128 rows and repacked there.
     */
    private void repackInterleaved(TensorEntry[] t, int rows, int cols, DeviceBuffer tiles, DeviceBuffer scales) {
        long expected = Fq6Layout.byteSize(rows, cols), codes = Fq6Layout.codesBytes(128, cols);
        for (TensorEntry e : t) {
            if (e.data().byteSize() != expected) {
                throw new IllegalArgumentException(file.path() + ": FQ6 tensor " + e.name() + " of " + rows + " x " + cols + " must be "
                        + expected + " bytes, is " + e.data().byteSize());
            }
        }
        try (DeviceBuffer raw = dev.alloc(Fq6Layout.byteSize(128, cols), t[0].name() + " FQ6 group (upload)")) {
            for (int g = 0; g < rows / 128; g++) {
                for (int i = 0; i < 2; i++) {
                    MemorySegment d = t[i].data();
                    raw.upload(d.asSlice(Fq6Layout.codeOffset(rows, cols, 128L * g, 0), codes), 0);
                    raw.upload(d.asSlice(Fq6Layout.scaleOffset(rows, cols, 128L * g, 0), Fq6Layout.byteSize(128, cols) - codes), codes);
                    int at = 256 * g + 128 * i;
                    k.repack(raw, 128, cols, null, tiles.view(FlexqKernels.tileBytes(at, cols), FlexqKernels.tileBytes(128, cols)),
                            scales.view(FlexqKernels.scaleTileBytes(at, cols), FlexqKernels.scaleTileBytes(128, cols)));
                    int group = g, part = i;
                    dev.synchronize(() -> "repacking group " + group + " of " + t[part].name());
                }
            }
        }
        uploaded += 2 * expected;
    }

    DeviceLinear linear(String name, int cols, int rows) {
        TensorEntry t = file.tensor(name);
        Form f = form(t.type(), cols);
        if (f == Form.FQ6) {
            int bits = bits(name);
            if (bits == 16) {
                DeviceBuffer raw = dev.alloc(Fq6Layout.byteSize(rows, cols), name + " FQ6");
                raw.upload(t.data(), 0);
                uploaded += raw.bytes();
                return new Fq6Linear(name, rows, cols, 16, null, null, raw, dispatcher);
            }
            DeviceBuffer tiles = dev.alloc(FlexqKernels.tileBytes(rows, cols), name + " int8 tiles");
            DeviceBuffer scales = dev.alloc(FlexqKernels.scaleTileBytes(rows, cols), name + " scale tiles");
            repackInto(t, rows, cols, tiles, scales);
            return new Fq6Linear(name, rows, cols, bits, tiles, scales, null, dispatcher);
        }
        DeviceBuffer w = dev.alloc((long) rows * cols * (f == Form.F16 ? 2 : 4), name + " " + f);
        uploadFloat(t, rows, cols, f, w, 0);
        return new FloatLinear(name, rows, cols, f == Form.F16, w, blas);
    }

    /** The output head: a Q8_0 head stays Q8_0 on the device ({@link Q8Linear}); any other type as {@link #linear}. */
    DeviceLinear head(String name, int cols, int rows) {
        TensorEntry t = file.tensor(name);
        if (t.type().id() != QuantTypes.Q8_0.id() || cols % Q8_0Type.BLOCK != 0) {
            return linear(name, cols, rows);
        }
        long blocks = (long) rows * (cols / Q8_0Type.BLOCK);
        if (t.data().byteSize() != blocks * Q8_0Type.BLOCK_BYTES) {
            throw new IllegalArgumentException(file.path() + ": Q8_0 tensor " + name + " of " + rows + " x " + cols + " must be "
                    + blocks * Q8_0Type.BLOCK_BYTES + " bytes, is " + t.data().byteSize());
        }
        DeviceBuffer codes = dev.alloc((long) rows * cols, name + " Q8_0 codes");
        DeviceBuffer scales;
        try {
            scales = dev.alloc(blocks * 2, name + " Q8_0 scales");
        } catch (RuntimeException e) {
            codes.close();
            throw e;
        }
        // split the 34-byte blocks into codes and scales, in slabs of rows (bounded host memory), in the GEMV's order
        boolean lanes = Q8Linear.laneOrder(cols);
        int slab = (int) Math.max(1, Math.min(rows, (64L << 20) / cols));
        int bpr = cols / Q8_0Type.BLOCK;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment q = arena.allocate((long) slab * cols, 64), d = arena.allocate((long) slab * bpr * 2, 64);
            for (int r0 = 0; r0 < rows; r0 += slab) {
                int n = Math.min(slab, rows - r0), first = r0;
                IntStream.range(0, n).parallel().forEach(i -> {
                    long src = (long) (first + i) * bpr * Q8_0Type.BLOCK_BYTES;
                    for (int b = 0; b < bpr; b++) {
                        long blk = src + (long) b * Q8_0Type.BLOCK_BYTES;
                        int sAt = lanes ? Q8Linear.scaleIndex(b) : b;
                        d.set(ValueLayout.JAVA_SHORT_UNALIGNED, ((long) i * bpr + sAt) * 2, t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED, blk));
                        if (!lanes) {
                            MemorySegment.copy(t.data(), blk + 2, q, (long) i * cols + (long) b * Q8_0Type.BLOCK, Q8_0Type.BLOCK);
                            continue;
                        }
                        for (int c = 0; c < Q8_0Type.BLOCK; c += 4) {  // four codes stay together in the lane order
                            int word = t.data().get(ValueLayout.JAVA_INT_UNALIGNED, blk + 2 + c);
                            q.set(ValueLayout.JAVA_INT_UNALIGNED, (long) i * cols + Q8Linear.codeIndex(b * Q8_0Type.BLOCK + c), word);
                        }
                    }
                });
                codes.upload(q.asSlice(0, (long) n * cols), (long) r0 * cols);
                scales.upload(d.asSlice(0, (long) n * bpr * 2), (long) r0 * bpr * 2);
            }
        } catch (RuntimeException e) {
            codes.close();
            scales.close();
            throw e;
        }
        uploaded += t.data().byteSize();
        return new Q8Linear(name, rows, cols, lanes, codes, scales, dev, blas);
    }

    /** A float vector (norm weights) as fp32. */
    DeviceBuffer vector(String name, int n) {
        float[] v = file.vector(name, n);
        DeviceBuffer b = dev.alloc(4L * n, name);
        b.upload(MemorySegment.ofArray(v), 0);
        return b;
    }

    /** Largest embedding kept in fp32 on the device; larger ones (and F16 ones) are stored as fp16. */
    static final long EMBEDDING_F32_LIMIT = 512L << 20;

    /** Whether the embedding is stored as fp16 on the device: stored so, or over {@link #EMBEDDING_F32_LIMIT} as fp32. */
    static boolean embeddingF16(TensorEntry t) {
        return t.type().id() == F16_ID || 4L * t.rows() * t.cols() > EMBEDDING_F32_LIMIT;
    }

    /** Device bytes of the embedding in the form {@link #embeddingF16} picks. */
    static long embeddingBytes(TensorEntry t) {
        return t.rows() * t.cols() * (embeddingF16(t) ? 2 : 4);
    }

    /** The embedding, in the form {@link #embeddingF16} picks. */
    DeviceBuffer embedding(String name, boolean[] f16Out) {
        TensorEntry t = file.tensor(name);
        int rows = (int) t.rows(), cols = (int) t.cols();
        boolean f16 = embeddingF16(t);
        f16Out[0] = f16;
        DeviceBuffer b = dev.alloc((long) rows * cols * (f16 ? 2 : 4), name + (f16 ? " F16" : " F32"));
        uploadFloat(t, rows, cols, f16 ? Form.F16 : Form.F32, b, 0);
        return b;
    }

    private void repackInto(TensorEntry t, int rows, int cols, DeviceBuffer tiles, DeviceBuffer scales) {
        long expected = Fq6Layout.byteSize(rows, cols);
        if (t.data().byteSize() != expected) {
            throw new IllegalArgumentException(file.path() + ": FQ6 tensor " + t.name() + " of " + rows + " x " + cols + " must be "
                    + expected + " bytes, is " + t.data().byteSize());
        }
        try (DeviceBuffer raw = dev.alloc(expected, t.name() + " FQ6 (upload)")) {
            raw.upload(t.data(), 0);
            k.repack(raw, rows, cols, null, tiles, scales);
            dev.synchronize(() -> "repacking " + t.name() + " (" + rows + " x " + cols + ")");
        }
        uploaded += expected;
    }

    /** Writes tensor t into w at byte offset off as fp16 or fp32 rows: raw bytes when stored so, else row-decoded. */
    private void uploadFloat(TensorEntry t, int rows, int cols, Form f, DeviceBuffer w, long off) {
        long esize = f == Form.F16 ? 2 : 4;
        long bytes = (long) rows * cols * esize;
        if (t.type().id() == (f == Form.F16 ? F16_ID : F32_ID)) {
            w.upload(t.data().asSlice(0, bytes), off);
            uploaded += bytes;
            return;
        }
        // row-decoded in slabs of at most 64 MiB (bounded host memory for multi-GB tensors)
        int slab = (int) Math.max(1, Math.min(rows, (64L << 20) / (cols * esize)));
        try (Arena arena = Arena.ofShared()) {  // shared: rows are decoded on the common pool
            MemorySegment buf = arena.allocate((long) slab * cols * esize, 64);
            for (int r0 = 0; r0 < rows; r0 += slab) {
                int n = Math.min(slab, rows - r0);
                int first = r0;
                IntStream.range(0, n).parallel().forEach(i -> {
                    float[] row = new float[cols];
                    t.type().dequantizeRow(t.data(), first + i, cols, row, 0);
                    long base = (long) i * cols * esize;
                    for (int c = 0; c < cols; c++) {
                        if (f == Form.F16) {
                            buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * c, Float.floatToFloat16(row[c]));
                        } else {
                            buf.set(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4L * c, row[c]);
                        }
                    }
                });
                w.upload(buf.asSlice(0, (long) n * cols * esize), off + (long) r0 * cols * esize);
            }
        }
        uploaded += bytes;
    }

    /**
     * Activation bits of an FQ6 matrix from flexq.act_bits.&lt;name&gt; (6, 8 or 16); absent: 8. System property
     * {@code flexq.act_preset} (a8, a6, paper, w6a16) runs the file's weights with that fixed preset's modes instead:
     * for benchmarks, since the fixed presets store the same weights (the weight quantizer does not look at
     * activation bits) and differ only in these keys.
     */
    int bits(String name) {
        String preset = System.getProperty("flexq.act_preset");
        if (preset != null && !preset.isBlank()) {
            return io.flexq.plugin.fq6.Preset.of(preset.trim().toLowerCase(java.util.Locale.ROOT)).fixedMode(name).bits();
        }
        String key = ActivationMode.metadataKey(name);
        Object value = metadata.get(key);
        if (value == null) {
            return 8;
        }
        if (!(value instanceof Number n)) {
            throw new IllegalArgumentException(file.path() + ": metadata key " + key + " should be an integer (6, 8 or 16), is " + value);
        }
        return ActivationMode.ofBits(n.longValue(), file.path() + ": metadata key " + key).bits();
    }

    void progress(String what) {
        log.accept(String.format(java.util.Locale.ROOT, "flexq-cuda: %s (%.2f GB uploaded)", what, uploaded / 1e9));
    }
}
