package io.flexq.cuda;

import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.llama.RopeAngles;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.DecoderOffload;
import io.flexq.runtime.spi.WeightBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * flexq-cuda's whole-model offload (found through {@link java.util.ServiceLoader}, priority 20): when a CUDA device is
 * there and the model fits, the whole Llama runs on it ({@link CudaModel}). Declines, with the reason in the log, for
 * shapes its kernels do not take (head size over 256, more than 8 query heads per key/value head, rows not a
 * multiple of 4 floats), tensor types it cannot store, or a model larger than the device's free memory.
 *
 * <p>Device {@code -Dflexq.cuda.device} (default 0). Opened on first use and kept for the process.
 */
public final class CudaDecoderOffload implements DecoderOffload {

    /** Device memory kept free for work buffers, KV caches and the CUDA context beyond the weights. */
    private static final long HEADROOM = 1L << 30;

    private final int ordinal;
    private WeightBackend.Availability availability;
    private CudaDevice device;
    private Dispatcher dispatcher;

    public CudaDecoderOffload() {
        this(Integer.getInteger("flexq.cuda.device", 0));
    }

    public CudaDecoderOffload(int ordinal) {
        this.ordinal = ordinal;
    }

    @Override
    public String name() {
        return "flexq-cuda";
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public synchronized WeightBackend.Availability availability() {
        if (availability == null) {
            availability = CudaProbe.probe(ordinal);
        }
        return availability;
    }

    @Override
    public synchronized Optional<DeviceModel> open(LlamaConfig c, ModelFile file, RopeAngles rope, Consumer<String> log) {
        String why = unsupported(c, file);
        if (why != null) {
            log.accept("flexq-cuda: the model stays on the CPU: " + why);
            return Optional.empty();
        }
        if (device == null) {
            device = CudaDevice.open(ordinal);
            dispatcher = Dispatcher.forDevice(device.computeCapability(), device.smCount());
            log.accept("flexq-cuda: " + device.describe() + ", kernels from " + device.kernels().origin());
        }
        long need = weightBytes(c, file);
        long[] mem = device.memoryInfo();
        if (need + HEADROOM > mem[0]) {
            log.accept(String.format(Locale.ROOT, "flexq-cuda: the model stays on the CPU: its weights need %.2f GB on the device"
                    + " (+ %.1f GB for caches and work buffers) and %.2f of %.2f GB are free on %s",
                    need / 1e9, HEADROOM / 1e9, mem[0] / 1e9, mem[1] / 1e9, device.describe()));
            return Optional.empty();
        }
        boolean anyF16 = file.tensors().values().stream().anyMatch(t -> t.ne().length == 2
                && DeviceUpload.form(t.type(), t.cols()) == DeviceUpload.Form.F16);
        return Optional.of(CudaModel.load(device, dispatcher, c, file, rope, anyF16, log));
    }

    /** Why this model cannot run on the device, or null. */
    static String unsupported(LlamaConfig c, ModelFile file) {
        if (c.headSize() > DecoderKernels.MAX_HEAD_SIZE || c.headSize() % 2 != 0) {
            return "head size " + c.headSize() + " (the attention kernel takes even sizes up to " + DecoderKernels.MAX_HEAD_SIZE + ")";
        }
        if (c.groupSize() > DecoderKernels.MAX_GROUP) {
            return c.groupSize() + " query heads per key/value head (the attention kernel takes up to " + DecoderKernels.MAX_GROUP + ")";
        }
        if (c.dim() % 4 != 0 || c.hiddenDim() % 4 != 0 || c.qDim() % 4 != 0) {
            return "widths " + c.dim() + "/" + c.qDim() + "/" + c.hiddenDim() + " are not multiples of 4";
        }
        for (String name : matrixNames(c, file)) {
            TensorEntry t = file.tensor(name);
            if (DeviceUpload.form(t.type(), t.cols()) == null) {
                return "tensor " + name + " (" + t.type().name() + ", rows of " + t.cols() + ") has no device form";
            }
        }
        return null;
    }

    private static List<String> matrixNames(LlamaConfig c, ModelFile file) {
        List<String> names = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            for (String s : new String[]{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
                names.add("blk." + l + "." + s + ".weight");
            }
        }
        names.add(file.tensors().containsKey("output.weight") ? "output.weight" : "token_embd.weight");
        return names;
    }

    private static long weightBytes(LlamaConfig c, ModelFile file) {
        long total = 0;
        for (String name : matrixNames(c, file)) {
            total += DeviceUpload.deviceBytes(file.tensor(name));
        }
        return total + DeviceUpload.embeddingBytes(file.tensor("token_embd.weight"));
    }
}
