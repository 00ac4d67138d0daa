package io.flexq.cuda;

/**
 * A GGUF Q8_0 matrix on the device, split at upload into its int8 codes (rows x cols bytes, row-major) and its fp16
 * block scales (rows x cols/32): the output head of a file written by {@code flexq quantize} with its default
 * {@code --head q8_0}. Forwards of up to {@link #DIRECT_ROWS} rows (decode steps) run the decoder's Q8_0 GEMV on the
 * codes, reading 1.06 bytes per weight instead of fp16's 2. A GEMV with fp32 activations is bound by its reads of the
 * activations once several rows share each weight, so larger forwards (batched decode, whole-prompt logits) run an
 * fp16 copy of the matrix through the float path (cuBLAS), made on the device the first time such a
 * forward comes ({@link #prepare}); a batch-1 user never pays its memory.
 */
final class Q8Linear implements DeviceLinear {

    /** The most rows the Q8_0 GEMV serves; beyond, the fp16 copy. */
    static final int DIRECT_ROWS = 4;

    private final String name;
    private final int rows, cols;
    private final boolean lanes;
    private final DeviceBuffer codes, scales;
    private final CudaDevice dev;
    private final CublasGemm blas;
    private FloatLinear f16;

    /**
     * {@code flexq.cuda.q8Lanes=false} (read per upload) keeps the file's code order on the device and the GEMV that
     * reads it (A/B runs).
     */
    private static boolean lanesEnabled() {
        return !"false".equals(System.getProperty("flexq.cuda.q8Lanes"));
    }

    /**
     * Whether a head of this many columns is stored in the lane order of dec_q8_gemv_lanes (decoder.cu): rows a
     * multiple of 512 codes, which every Llama width is.
     */
    static boolean laneOrder(int cols) {
        return cols % 512 == 0 && lanesEnabled();
    }

    /** Where code k of a row (k a multiple of 4) and its next three go in the lane order: byte offset in the row. */
    static int codeIndex(int k) {
        int span = k & ~511, word = (k >> 7) & 3, lane = (k >> 2) & 31;
        return span + 16 * lane + 4 * word;
    }

    /** Where the scale of block b (32 codes) of a row goes in the lane order: index among the row's scales. */
    static int scaleIndex(int b) {
        int span = b & ~15, word = (b >> 2) & 3, q = b & 3;
        return span + 4 * q + word;
    }

    Q8Linear(String name, int rows, int cols, boolean lanes, DeviceBuffer codes, DeviceBuffer scales, CudaDevice dev, CublasGemm blas) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.lanes = lanes;
        this.codes = codes;
        this.scales = scales;
        this.dev = dev;
        this.blas = blas;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public int bits() {
        return 0;
    }

    @Override
    public long bytes() {
        return codes.bytes() + scales.bytes() + (f16 == null ? 0 : f16.bytes());
    }

    @Override
    public String describe() {
        return name + ": Q8_0 " + rows + " x " + cols + (f16 == null ? "" : " (+ fp16 copy for forwards of over " + DIRECT_ROWS + " rows)");
    }

    @Override
    public void prepare(FlexqKernels k, DecoderKernels d, int m) {
        if (m <= DIRECT_ROWS || f16 != null) {
            return;
        }
        DeviceBuffer w = dev.alloc(2L * rows * cols, name + " fp16 copy (forwards of over " + DIRECT_ROWS + " rows)");
        d.q8ToF16(codes.address(), scales.address(), rows, cols, lanes, w.address());
        dev.synchronize(() -> "widening " + name + " to fp16");
        f16 = new FloatLinear(name, rows, cols, true, w, blas);
    }

    @Override
    public void run(FlexqKernels k, DecoderKernels d, LayerInput in, long y) {
        if (in.rows <= DIRECT_ROWS) {
            if (lanes) {
                d.q8GemvLanes(codes.address(), scales.address(), rows, cols, in.x, cols, in.rows, y);
            } else {
                d.q8Gemv(codes.address(), scales.address(), rows, cols, in.x, cols, in.rows, y);
            }
            return;
        }
        if (f16 == null) {
            throw new IllegalStateException(name + ": a forward of " + in.rows + " rows needs prepare() first (the fp16 copy)");
        }
        f16.run(k, d, in, y);
    }

    @Override
    public void close() {
        codes.close();
        scales.close();
        if (f16 != null) {
            f16.close();
        }
    }
}
