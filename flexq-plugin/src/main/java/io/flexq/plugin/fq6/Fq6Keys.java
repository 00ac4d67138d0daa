package io.flexq.plugin.fq6;

/**
 * The {@code flexq.*} metadata keys of an FQ6 file (GGUF v3). Per-tensor keys append the tensor's GGUF name.
 *
 * <pre>
 *   flexq.format_version            uint32   {@value #FORMAT_VERSION}
 *   flexq.group_size                uint32   128
 *   flexq.preset                    string   auto | paper | a8 | a6 | w6a16
 *   flexq.weight_quantizer          string   "rtn" or "clip" (per-group MSE-optimal scale, alpha grid 1.00..0.80)
 *   flexq.source_sha256             string   hex SHA-256 of the input file (for a directory: of its files, sorted by name)
 *   flexq.source_format             string   gguf | llama2c | safetensors
 *   flexq.act_bits.TENSOR           uint32   6, 8 or 16 (W6A16)
 *   flexq.weight_error.TENSOR       float32  relative Frobenius error ||W - Q(W)||/||W|| of the stored codes
 *   flexq.weight_error_rtn.TENSOR   float32  the same for plain round-to-nearest (equal to the above with --no-clip)
 *   flexq.sensitivity.TENSOR        float32  mean KLD (nats) vs the all-A8 model when only TENSOR goes A8 -> A6 (auto only)
 *   flexq.a8_gain.TENSOR            float32  mean KLD saved by keeping TENSOR at A8 when all other layers are A6 (auto, --rank gain)
 *   flexq.calibration.rank          string   gain | drop: which score ranked the layers for A8 (auto only)
 *   flexq.calibration.kld_all_a6    float32  measured mean KLD of the all-A6 model vs all-A8 (auto, --rank gain)
 *   flexq.calibration.file          string   calibration text file name (auto only)
 *   flexq.calibration.tokens        uint32   tokens the scores were measured on (auto only)
 *   flexq.budget                    string   the --budget used (auto only)
 *   flexq.head_format               string   fq6 | q8_0 | q6_k | keep: how token_embd / output are stored
 *   flexq.head_tied                 bool     true: the head is token_embd.weight (stored once, no output.weight)
 *   flexq.smoothing.alpha           float32  --smooth: the migration strength of the activation smoothing folded into the
 *                                            norms and v/up rows (absent when off; nothing to undo at run time)
 *   flexq.max_bytes                 string   --max-bytes as given (q6_k / q8_0 with the byte count)
 *   flexq.promotion.type            string   the type linears were promoted to (Q8_0); promoted tensors have no act_bits key
 *   flexq.promotion.kld_fq6         float32  mean KLD of the unpromoted file on the calibration positions
 *   flexq.promotion.calibration_tokens uint32 positions the gains were measured over
 *   flexq.promotion_gain.TENSOR     float32  mean KLD saved by storing only TENSOR as Q8_0 (every candidate linear)
 * </pre>
 * For a tensor imported from Q6_K the weight errors are measured against the Q6_K values (the error FQ6 adds).
 */
public final class Fq6Keys {

    private Fq6Keys() {
    }

    public static final int FORMAT_VERSION = 1;
    public static final int ALIGNMENT = 64;

    public static final String VERSION = "flexq.format_version";
    public static final String GROUP_SIZE = "flexq.group_size";
    public static final String PRESET = "flexq.preset";
    public static final String WEIGHT_QUANTIZER = "flexq.weight_quantizer";
    public static final String SOURCE_SHA256 = "flexq.source_sha256";
    public static final String SOURCE_FORMAT = "flexq.source_format";
    public static final String ACT_BITS = "flexq.act_bits.";
    public static final String WEIGHT_ERROR = "flexq.weight_error.";
    public static final String WEIGHT_ERROR_RTN = "flexq.weight_error_rtn.";
    public static final String SENSITIVITY = "flexq.sensitivity.";
    public static final String A8_GAIN = "flexq.a8_gain.";
    public static final String CALIBRATION_RANK = "flexq.calibration.rank";
    public static final String CALIBRATION_KLD_ALL_A6 = "flexq.calibration.kld_all_a6";
    public static final String CALIBRATION_FILE = "flexq.calibration.file";
    public static final String CALIBRATION_TOKENS = "flexq.calibration.tokens";
    public static final String BUDGET = "flexq.budget";
    public static final String HEAD_FORMAT = "flexq.head_format";
    public static final String HEAD_TIED = "flexq.head_tied";
    public static final String SMOOTHING_ALPHA = "flexq.smoothing.alpha";
    public static final String ALIGNMENT_KEY = "general.alignment";
}
