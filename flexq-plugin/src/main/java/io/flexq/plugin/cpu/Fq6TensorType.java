package io.flexq.plugin.cpu;

import io.flexq.plugin.fq6.Fq6Header;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The FQ6 tensor type, GGUF type id 1030 (docs/FQ6.md, section 7): 6-bit codes in 128-groups, planar
 * (all codes, then all fp16 scales), {@code rows * ceil(cols / 128) * 98} bytes. Rows whose length is
 * not a multiple of 128 are allowed; the padding codes are zero.
 *
 * <p>Because the scales follow all the codes, decoding a row needs the row count; {@link #dequantizeRow}
 * takes it from the size of the segment, which (as the SPI says) is exactly the tensor's bytes.
 */
public final class Fq6TensorType implements TensorType {

    private static final ValueLayout.OfShort FP16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public int id() {
        return Fq6Layout.TYPE_ID;
    }

    @Override
    public String name() {
        return Fq6Layout.TYPE_NAME;
    }

    @Override
    public int blockSize() {
        return Fq6Layout.GROUP;
    }

    @Override
    public boolean allowsPartialBlocks() {
        return true;
    }

    /** A row's share of the tensor, {@code ceil(cols / 128) * (96 + 2)}; rows are not contiguous. */
    @Override
    public long rowBytes(long cols) {
        return Math.multiplyExact((long) Fq6Layout.groups(cols), (long) (Fq6Layout.GROUP_CODE_BYTES + Fq6Layout.SCALE_BYTES));
    }

    @Override
    public long byteSize(long cols, long rows) {
        return Fq6Layout.byteSize(rows, cols);
    }

    @Override
    public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int dstOffset) {
        long perRow = rowBytes(cols);
        if (data.byteSize() % perRow != 0) {
            throw new IllegalArgumentException("FQ6 tensor of " + data.byteSize() + " bytes is not a whole number of rows of "
                    + cols + " columns (" + perRow + " bytes each): the segment must be exactly the tensor's bytes");
        }
        long rows = data.byteSize() / perRow;
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("FQ6 row " + row + " of a tensor of " + rows + " rows");
        }
        int groups = Fq6Layout.groups(cols);
        byte[] packed = new byte[Fq6Layout.GROUP_CODE_BYTES];
        byte[] codes = new byte[Fq6Layout.GROUP];
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, Fq6Layout.codeOffset(rows, cols, row, g), packed, 0, packed.length);
            Fq6Layout.unpackGroup(packed, 0, codes, 0);
            float s = Float.float16ToFloat(data.get(FP16_LE, Fq6Layout.scaleOffset(rows, cols, row, g)));
            int n = Math.min(Fq6Layout.GROUP, cols - g * Fq6Layout.GROUP);
            for (int k = 0; k < n; k++) {
                dst[dstOffset + g * Fq6Layout.GROUP + k] = codes[k] * s;
            }
        }
    }

    /** Checked once per GGUF file that holds FQ6 tensors, however it is opened (issue 11: no command called Fq6File.open). */
    @Override
    public void checkFileMetadata(Map<String, Object> metadata, String file) {
        Fq6Header.check(metadata, file, false);
    }

    /** Codes are integers; only the fp16 scales (the last rows * groups * 2 bytes) can be NaN or infinite. */
    @Override
    public long firstNonFiniteRow(MemorySegment data, long cols, long rows) {
        long groups = Fq6Layout.groups(cols);
        long scales = Fq6Layout.codesBytes(rows, cols);
        for (long i = scales; i + 1 < data.byteSize(); i += 2) {
            if ((data.get(FP16_LE, i) & 0x7C00) == 0x7C00) {
                return (i - scales) / 2 / groups;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return name();
    }
}
