package io.flexq.cuda;

/**
 * Element type of a kernel's output y. The epilogue accumulates in fp32 in every case (the exactness
 * contract); {@link #F16} and {@link #BF16} only round the finished fp32 value once, to nearest even,
 * when storing it, so their y equals the fp32 kernel's y converted on the host bit for bit. The 16-bit
 * types exist for the INT8-MMA kernels ({@link KernelSpec#hasOutputTwins()}) and unsplit launches only:
 * split-K partial sums cannot be added exactly into a 16-bit y.
 */
public enum OutputType {
    F32("", 4),
    F16("_f16", 2),
    BF16("_bf16", 2);

    private final String suffix;
    private final int bytes;

    OutputType(String suffix, int bytes) {
        this.suffix = suffix;
        this.bytes = bytes;
    }

    /** Suffix of the kernel entry point that stores this type ("" for the fp32 originals). */
    public String suffix() {
        return suffix;
    }

    /** Bytes per element of y. */
    public int bytes() {
        return bytes;
    }
}
