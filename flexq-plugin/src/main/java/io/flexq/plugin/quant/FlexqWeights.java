package io.flexq.plugin.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One INT6 weight matrix in its plain, unpacked form: {@code rows x cols} codes in [-32, 31], one per
 * byte, rows padded with zero codes to {@code groups * 128}, and one fp16 scale per (row, 128-group).
 * This is what the quantizer produces, what an FQ6 tensor decodes to, and what each backend repacks
 * into its own kernel layout (the CPU backend keeps the bytes; the CUDA backend builds bit planes).
 *
 * <p>Weight {@code (r, k)} is {@code code(r, k) * scale(r, k / 128)}, and that product is exact in fp32.
 * Instances are immutable; accessors return copies.
 */
public final class FlexqWeights {

    private final int rows;
    private final int cols;
    private final int groups;
    /** rows * groups * 128 codes, row-major, padding zero. */
    private final byte[] codes;
    /** rows * groups fp16 bit patterns, index r * groups + g. */
    private final short[] scales;

    /** Takes ownership of the arrays; callers have checked them. */
    FlexqWeights(int rows, int cols, byte[] codes, short[] scales) {
        this.rows = rows;
        this.cols = cols;
        this.groups = Fq6Layout.groups(cols);
        this.codes = codes;
        this.scales = scales;
    }

    /**
     * Weights from codes and fp16 scales, both copied and checked: codes in [-32, 31], padding codes 0,
     * scales finite.
     *
     * @param codes  {@code rows * groups * 128} codes, row-major, each row padded to {@code groups * 128}
     * @param scales {@code rows * groups} fp16 bit patterns, index {@code r * groups + g}
     */
    public static FlexqWeights of(String name, int rows, int cols, byte[] codes, short[] scales) {
        checkShape(name, rows, cols);
        int groups = Fq6Layout.groups(cols);
        long n = (long) rows * groups * Fq6Layout.GROUP;
        if (codes.length != n || scales.length != (long) rows * groups) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + cols + " needs " + n + " codes and "
                    + (long) rows * groups + " scales, got " + codes.length + " and " + scales.length);
        }
        FlexqWeights w = new FlexqWeights(rows, cols, codes.clone(), scales.clone());
        w.check(name);
        return w;
    }

    /**
     * Decodes an FQ6 tensor (docs/FQ6.md, section 7).
     *
     * @param name tensor name for messages, e.g. "model.gguf: blk.0.attn_q.weight"
     * @param data exactly the tensor's bytes
     */
    public static FlexqWeights readFq6(String name, MemorySegment data, int rows, int cols) {
        checkShape(name, rows, cols);
        long expected = Fq6Layout.byteSize(rows, cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": FQ6 tensor of " + rows + " x " + cols + " must be "
                    + expected + " bytes, got " + data.byteSize());
        }
        int groups = Fq6Layout.groups(cols);
        int padded = paddedCols(name, rows, groups);
        byte[] codes = new byte[Math.multiplyExact(rows, padded)];
        byte[] packed = new byte[Fq6Layout.GROUP_CODE_BYTES];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                long off = ((long) r * groups + g) * Fq6Layout.GROUP_CODE_BYTES;
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, packed, 0, packed.length);
                Fq6Layout.unpackGroup(packed, 0, codes, r * padded + g * Fq6Layout.GROUP);
            }
        }
        short[] scales = new short[rows * groups];
        long base = Fq6Layout.codesBytes(rows, cols);
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Fq6Layout.readFp16(data, base + 2L * i);
        }
        FlexqWeights w = new FlexqWeights(rows, cols, codes, scales);
        w.check(name);
        return w;
    }

    /** Encodes this matrix as an FQ6 tensor into {@code dst}, which must hold {@link #fq6ByteSize()} bytes. */
    public void writeFq6(MemorySegment dst) {
        long size = fq6ByteSize();
        if (dst.byteSize() < size) {
            throw new IllegalArgumentException("FQ6 tensor needs " + size + " bytes, destination has " + dst.byteSize());
        }
        int padded = paddedCols();
        byte[] packed = new byte[Fq6Layout.GROUP_CODE_BYTES];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                Fq6Layout.packGroup(codes, r * padded + g * Fq6Layout.GROUP, packed, 0);
                long off = ((long) r * groups + g) * Fq6Layout.GROUP_CODE_BYTES;
                MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, off, packed.length);
            }
        }
        long base = Fq6Layout.codesBytes(rows, cols);
        for (int i = 0; i < scales.length; i++) {
            Fq6Layout.writeFp16(dst, base + 2L * i, scales[i]);
        }
    }

    /** The FQ6 encoding as a heap array (for tensors under 2 GiB). */
    public byte[] toFq6Bytes() {
        byte[] out = new byte[Math.toIntExact(fq6ByteSize())];
        writeFq6(MemorySegment.ofArray(out));
        return out;
    }

    public long fq6ByteSize() {
        return Fq6Layout.byteSize(rows, cols);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int groups() {
        return groups;
    }

    /** Row length after padding, {@code groups * 128}. */
    public int paddedCols() {
        return groups * Fq6Layout.GROUP;
    }

    /** Code of (r, k), {@code 0 <= k < paddedCols()} (0 for padding). */
    public int code(int r, int k) {
        return codes[r * paddedCols() + k];
    }

    /** fp16 bit pattern of the scale of (r, g). */
    public short scaleFp16(int r, int g) {
        return scales[r * groups + g];
    }

    /** Scale of (r, g) as fp32, {@code sw}. */
    public float scale(int r, int g) {
        return Float.float16ToFloat(scales[r * groups + g]);
    }

    /** Codes, {@code rows * paddedCols()}, row-major, padding zero (a copy). */
    public byte[] copyCodes() {
        return codes.clone();
    }

    /** Scales as fp16 bit patterns, index {@code r * groups + g} (a copy). */
    public short[] copyScalesFp16() {
        return scales.clone();
    }

    /** Scales as fp32, index {@code r * groups + g}. */
    public float[] copyScales() {
        float[] out = new float[scales.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.float16ToFloat(scales[i]);
        }
        return out;
    }

    /** {@code dst[dstOff + k] = code(r, k) * scale(r, k / 128)} for {@code k < cols} (exact in fp32). */
    public void dequantizeRow(int r, float[] dst, int dstOff) {
        int base = r * paddedCols();
        for (int g = 0; g < groups; g++) {
            float s = scale(r, g);
            int end = Math.min(cols, (g + 1) * Fq6Layout.GROUP);
            for (int k = g * Fq6Layout.GROUP; k < end; k++) {
                dst[dstOff + k] = codes[base + k] * s;
            }
        }
    }

    private void check(String name) {
        int padded = paddedCols();
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < padded; k++) {
                int c = codes[r * padded + k];
                if (k >= cols && c != 0) {
                    throw new IllegalArgumentException(name + ": padding code at row " + r + ", column " + k
                            + " is " + c + ", must be 0 (cols = " + cols + ")");
                }
                if (c < Fq6Layout.CODE_MIN || c > Fq6Layout.CODE_MAX) {
                    throw new IllegalArgumentException(name + ": code at row " + r + ", column " + k + " is " + c
                            + ", outside [-32, 31]");
                }
            }
            for (int g = 0; g < groups; g++) {
                float s = scale(r, g);
                if (!Float.isFinite(s)) {
                    throw new IllegalArgumentException(name + ": scale of row " + r + ", group " + g + " is " + s
                            + " (fp16 bits 0x" + Integer.toHexString(scaleFp16(r, g) & 0xffff) + ")");
                }
            }
        }
    }

    private static void checkShape(String name, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": FQ6 needs rows > 0 and cols > 0, got " + rows + " x " + cols);
        }
        paddedCols(name, rows, Fq6Layout.groups(cols));
    }

    private static int paddedCols(String name, int rows, int groups) {
        long n = (long) rows * groups * Fq6Layout.GROUP;
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + rows + " rows x " + groups
                    + " groups is too large for one FQ6 matrix in memory (" + n + " codes; limit 2^31)");
        }
        return groups * Fq6Layout.GROUP;
    }
}
