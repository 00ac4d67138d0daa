package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Collects the GPTQ Hessians of a model's linear layers from calibration forward passes of the unquantized model.
 *
 * <p>It is a weight backend placed ahead of the regular ones: it loads every matrix through them and wraps each
 * linear one in a matrix that feeds its input batch to the {@link HessianAccumulator} of that input before
 * multiplying. q/k/v read the same normed input, as do gate/up, so one accumulator serves each group and only its
 * first member (attn_q, ffn_gate) feeds it; attn_output and ffn_down have their own, and so has the output head
 * ({@link #HEAD_INPUT}). The Hessians are those of the
 * full-precision model's inputs (one pass, not GPTQ's sequential variant that re-runs quantized earlier layers).
 *
 * <p>One instance per model (not a singleton); memory is K^2 doubles per distinct input.
 */
public final class HessianCollector implements WeightBackend {

    private final Backends kernels;
    private final Map<String, HessianAccumulator> byInput = new LinkedHashMap<>();
    private final Map<String, String> inputOf = new LinkedHashMap<>();

    public HessianCollector(Backends kernels) {
        this.kernels = kernels;
    }

    /**
     * Runs {@code windows} (token ids, each from position 0) through {@code model} loaded with every backend of
     * {@code backends} behind a collector, and returns the collector holding the Hessians.
     */
    public static HessianCollector collect(ModelFile model, Backends backends, List<int[]> windows, Consumer<String> log,
                                           java.util.function.IntConsumer windowDone) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no calibration window for GPTQ (is the calibration text empty?)");
        }
        HessianCollector c = new HessianCollector(backends);
        List<WeightBackend> all = new ArrayList<>();
        all.add(c);
        all.addAll(backends.all());
        int maxLen = windows.stream().mapToInt(w -> w.length).max().orElseThrow();
        try (Llama llama = Llama.load(model, new Backends(all, log), List.of(), log);
             LlamaSession session = llama.newSession(maxLen, maxLen)) {
            for (int w = 0; w < windows.size(); w++) {
                int[] tokens = windows.get(w);
                session.rewind(0);
                session.forwardAll(tokens, 0, tokens.length);
                windowDone.accept(w + 1);
            }
        }
        return c;
    }

    /** The input a linear tensor reads: "blk.N.attn_in" (q/k/v), "blk.N.ffn_in" (gate/up), else its own name. */
    public static String inputKey(String tensorName) {
        Optional<LinearTensors.Linear> l = LinearTensors.parse(tensorName);
        if (l.isEmpty()) {
            return tensorName;
        }
        return switch (l.get().kind()) {
            case "attn_q", "attn_k", "attn_v" -> "blk." + l.get().block() + ".attn_in";
            case "ffn_gate", "ffn_up" -> "blk." + l.get().block() + ".ffn_in";
            default -> tensorName;
        };
    }

    private static boolean feeds(String tensorName) {
        return LinearTensors.parse(tensorName).map(l -> !List.of("attn_k", "attn_v", "ffn_up").contains(l.kind())).orElse(false);
    }

    /** The Hessian accumulator for a linear tensor's input, if that tensor was loaded. */
    public Optional<HessianAccumulator> hessianFor(String tensorName) {
        String key = inputOf.get(tensorName);
        return key == null ? Optional.empty() : Optional.ofNullable(byInput.get(key));
    }

    /** Accumulators by input key, in load order. */
    public Map<String, HessianAccumulator> inputs() {
        return Collections.unmodifiableMap(byInput);
    }

    @Override
    public String name() {
        return "flexq-hessian";
    }

    @Override
    public int priority() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Availability availability() {
        return Availability.yes("observes linear inputs of matrices loaded by " + kernels.all().stream().map(WeightBackend::name).toList());
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return kernels.all().stream().anyMatch(b -> b.availability().available() && b.supports(type, rows, cols));
    }

    /** Input key of the output head (the final RMSNorm output). */
    public static final String HEAD_INPUT = "output_in";

    /** The head is loaded as a matrix under output.weight, or token_embd.weight when tied (the embedding is never a matrix). */
    private static boolean isHead(String tensorName) {
        return tensorName.equals("output.weight") || tensorName.equals("token_embd.weight");
    }

    /** The Hessian accumulator of the output head's input, if the head was loaded. */
    public Optional<HessianAccumulator> headHessian() {
        return Optional.ofNullable(byInput.get(HEAD_INPUT));
    }

    @Override
    public WeightMatrix load(WeightSource source) {
        WeightMatrix m = kernels.load(source);
        boolean head = isHead(source.name());
        if (!LinearTensors.isLinear(source.name()) && !head) {
            return m;
        }
        String key = head ? HEAD_INPUT : inputKey(source.name());
        HessianAccumulator acc = byInput.computeIfAbsent(key, k -> new HessianAccumulator(source.cols()));
        if (acc.dim() != source.cols()) {
            throw new IllegalArgumentException(source.name() + ": has " + source.cols() + " columns but shares input " + key
                    + " of dim " + acc.dim());
        }
        inputOf.put(source.name(), key);
        return head || feeds(source.name()) ? new Observed(m, acc) : m;
    }

    /** A matrix that adds its input batch to an accumulator before multiplying. */
    private record Observed(WeightMatrix inner, HessianAccumulator acc) implements WeightMatrix {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public int rows() {
            return inner.rows();
        }

        @Override
        public int cols() {
            return inner.cols();
        }

        @Override
        public void matmul(ActivationBatch in, ActivationBatch out) {
            acc.add(in);
            inner.matmul(in, out);
        }

        @Override
        public String describe() {
            return "hessian-observed " + inner.describe();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
