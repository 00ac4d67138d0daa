package io.flexq.runtime.llama;

import io.flexq.runtime.model.FiniteWeights;

import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.DecoderOffload;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * A Llama model ready to run: config, weights on their backends, and optionally a device decoder that holds the
 * blocks (see {@link DecoderOffload}). One model serves any number of {@link LlamaSession}s, each with its own
 * KV cache. The weights may point into the model file's mapping: keep the {@link ModelFile} open while this is used.
 */
public final class Llama implements AutoCloseable {

    private final Path source;
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Rope rope;
    private final DecoderOffload.DeviceModel device;
    private final Consumer<String> log;

    private Llama(Path source, LlamaConfig config, LlamaWeights weights, DecoderOffload.DeviceModel device, Consumer<String> log) {
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.rope = new Rope(config);
        this.device = device;
        this.log = log;
    }

    /** Loads with every {@link io.flexq.runtime.spi.WeightBackend} and {@link DecoderOffload} visible to {@code loader}. */
    public static Llama load(ModelFile file, ClassLoader loader, Consumer<String> log) {
        return load(file, Backends.discover(loader, log), offloads(loader), log);
    }

    /** Every {@link DecoderOffload} visible to {@code loader}. */
    public static List<DecoderOffload> offloads(ClassLoader loader) {
        List<DecoderOffload> offloads = new ArrayList<>();
        ServiceLoader.load(DecoderOffload.class, loader).forEach(offloads::add);
        return offloads;
    }

    /**
     * Loads {@code file} with the given backends. The first available offload (by priority) that accepts the model
     * runs it (see {@link DecoderOffload} for the {@code flexq.device} property); with none (or an empty list) it runs
     * on the host.
     *
     * @param log diagnostics (backend choices, warnings), e.g. to stderr
     */
    public static Llama load(ModelFile file, Backends backends, List<DecoderOffload> offloads, Consumer<String> log) {
        LlamaConfig config = LlamaConfig.from(file);
        FiniteWeights.check(file);
        log.accept("model " + file.path() + " (" + file.format() + "): " + config);
        Device wanted = Device.fromProperty();
        DecoderOffload.DeviceModel device = wanted == Device.CPU ? null : openDevice(file, config, offloads, log).orElse(null);
        if (device == null && wanted == Device.CUDA) {
            throw new IllegalStateException("flexq.device=cuda (--device cuda): no device offload accepted " + file.path()
                    + " (the lines above say why); use --device auto or cpu to run on the CPU");
        }
        if (wanted == Device.CPU) {
            log.accept("runs on the CPU (flexq.device=cpu)");
        }
        try {
            LlamaWeights weights = LlamaWeights.load(file, config, backends, device == null, log);
            return new Llama(file.path(), config, weights, device, log);
        } catch (RuntimeException e) {
            if (device != null) {
                device.close();
            }
            throw e;
        }
    }

    private static Optional<DecoderOffload.DeviceModel> openDevice(ModelFile file, LlamaConfig config,
                                                                     List<DecoderOffload> offloads, Consumer<String> log) {
        List<DecoderOffload> ordered = new ArrayList<>(offloads);
        ordered.sort(Comparator.comparingInt(DecoderOffload::priority).reversed());
        for (DecoderOffload o : ordered) {
            var a = o.availability();
            if (!a.available()) {
                log.accept("decoder offload " + o.name() + ": unavailable, " + a.reason());
                continue;
            }
            Optional<DecoderOffload.DeviceModel> d = o.open(config, file, new Rope(config), log);
            if (d.isPresent()) {
                log.accept("model runs on " + d.get().describe());
                return d;
            }
        }
        return Optional.empty();
    }

    public LlamaConfig config() {
        return config;
    }

    public Path source() {
        return source;
    }

    /** Where each matrix runs ("blk.0.attn_q.weight: cpu F32 ..."), or the device decoder. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        if (device != null) {
            lines.add("model: " + device.describe());
        }
        lines.addAll(weights.describe());
        return lines;
    }

    /**
     * A new sequence with room for {@code contextLength} positions. A context longer than the one the model was
     * trained for ({@link LlamaConfig#contextLength()}) is allowed, with a warning through the log: positions past
     * it are computed as asked (no extra RoPE scaling), and the model has never seen them.
     */
    public LlamaSession newSession(int contextLength) {
        return newSession(contextLength, Math.min(contextLength, promptBatch(device != null)));
    }

    /** System property: the most tokens of a prompt that run as one batch. */
    public static final String PROMPT_BATCH_PROPERTY = "flexq.promptBatch";
    /**
     * Default prompt batch on the CPU: llama.cpp's default micro-batch. On 16 cores a 512-token prompt of the 27M
     * model ran 3-4% faster in one batch than in two of 256 (bench/results/cpu-vs-llamacpp.md, session 13): half the
     * hand-offs to the team, and each matmul twice the work per hand-off.
     */
    static final int DEFAULT_CPU_PROMPT_BATCH = 512;
    /** Default prompt batch on a device (the decoder's buffers are sized by it; measured with it). */
    static final int DEFAULT_DEVICE_PROMPT_BATCH = 256;

    /** {@code -Dflexq.promptBatch} (1 .. 65536), else the CPU or device default. */
    static int promptBatch(boolean onDevice) {
        String v = System.getProperty(PROMPT_BATCH_PROPERTY);
        if (v == null) {
            return onDevice ? DEFAULT_DEVICE_PROMPT_BATCH : DEFAULT_CPU_PROMPT_BATCH;
        }
        try {
            int b = Integer.parseInt(v.strip());
            if (b >= 1 && b <= 65536) {
                return b;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + PROMPT_BATCH_PROPERTY + "=" + v + ": expected a token count 1..65536");
    }

    /** As {@link #newSession(int)}, with prompts processed in chunks of at most {@code batchCapacity} tokens. */
    public LlamaSession newSession(int contextLength, int batchCapacity) {
        if (contextLength <= 0 || batchCapacity <= 0) {
            throw new IllegalArgumentException("context length and batch capacity must be positive, got " + contextLength + " and " + batchCapacity);
        }
        if (contextLength > config.contextLength()) {
            log.accept("warning: context " + contextLength + " is longer than the " + config.contextLength()
                    + " tokens " + source.getFileName() + " was trained for (llama.context_length); positions past "
                    + config.contextLength() + " are outside its training");
        }
        DecoderOffload.Sequence sequence = device == null ? null : device.newSequence(contextLength);
        int layers = device == null ? config.layers() : 0;
        KvCache spare = spareCache.get();
        KvCache cache = spare != null && spare.reusableFor(config, layers, contextLength) && spareCache.compareAndSet(spare, null) ? spare : null;
        return new LlamaSession(config, weights, rope, sequence, contextLength, Math.min(batchCapacity, contextLength),
                cache, spareCache::set);
    }

    /**
     * The KV cache of the last closed CPU session, which the next session of the same context length takes over
     * instead of allocating and zeroing its own (a server's request after request; llama.cpp keeps one cache per
     * context likewise). Only a closed session's cache is kept, so no two open sessions share one.
     */
    private final java.util.concurrent.atomic.AtomicReference<KvCache> spareCache = new java.util.concurrent.atomic.AtomicReference<>();

    /** Whether the model runs on a device (a {@link DecoderOffload} accepted it). */
    public boolean onDevice() {
        return device != null;
    }

    /** The device model when the model runs on a device (for the offload's own tools, such as its profiler). */
    public java.util.Optional<DecoderOffload.DeviceModel> deviceModel() {
        return java.util.Optional.ofNullable(device);
    }

    /**
     * One greedy decode step of several sessions of this model at once: session i is fed {@code tokens[i]} and the
     * argmax of its next logits is returned. On a device the rows go through every matmul as one batch; on the host
     * the sessions run one after the other.
     */
    public int[] decodeGreedy(LlamaSession[] sessions, int[] tokens) {
        if (sessions.length != tokens.length || sessions.length == 0) {
            throw new IllegalArgumentException("decodeGreedy needs one token per session, got " + tokens.length + " tokens for " + sessions.length + " sessions");
        }
        if (device == null) {
            int[] next = new int[sessions.length];
            for (int i = 0; i < sessions.length; i++) {
                next[i] = sessions[i].forwardGreedy(tokens, i, 1);
            }
            return next;
        }
        DecoderOffload.Sequence[] seqs = new DecoderOffload.Sequence[sessions.length];
        for (int i = 0; i < sessions.length; i++) {
            sessions[i].checkBatchable(tokens[i]);
            seqs[i] = sessions[i].deviceSequence();
        }
        int[] next = device.decodeGreedy(seqs, tokens);
        for (LlamaSession s : sessions) {
            s.advanced(1);
        }
        return next;
    }

    /** Where the model runs, from system property {@code flexq.device} (set by the commands' --device). */
    enum Device {
        AUTO, CPU, CUDA;

        static Device fromProperty() {
            String v = System.getProperty("flexq.device", "auto");
            return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                case "auto", "" -> AUTO;
                case "cpu" -> CPU;
                case "cuda", "gpu" -> CUDA;
                default -> throw new IllegalArgumentException("flexq.device (--device) must be auto, cpu or cuda, got '" + v + "'");
            };
        }
    }

    @Override
    public void close() {
        weights.close();
        if (device != null) {
            device.close();
        }
    }
}
