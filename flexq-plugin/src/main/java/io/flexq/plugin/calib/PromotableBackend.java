package io.flexq.plugin.calib;

import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A weight backend for the promotion analysis ({@link PromotionAnalysis}): every FQ6 linear matrix that has an
 * alternative encoding (e.g. its Q8_0 bytes) is loaded twice, as stored and as the alternative, each through the
 * backend the runtime would pick for that type (the FlexQ CPU backend for FQ6, the runtime's kernels for Q8_0: the
 * kernels the written file will run on), and the analysis switches between them between forward passes.
 *
 * <p>One instance per model being analysed; it goes ahead of the regular backends in the load's {@link Backends}.
 */
public final class PromotableBackend implements WeightBackend {

    private final Backends kernels;
    private final TensorType alternativeType;
    private final Map<String, byte[]> alternatives;
    private final Map<String, Promotable> matrices = new LinkedHashMap<>();

    /**
     * @param kernels         the backends that run both types (e.g. every backend on the class path)
     * @param alternativeType the type of the alternative bytes (e.g. Q8_0)
     * @param alternatives    alternative bytes by tensor name
     */
    public PromotableBackend(Backends kernels, TensorType alternativeType, Map<String, byte[]> alternatives) {
        this.kernels = kernels;
        this.alternativeType = alternativeType;
        this.alternatives = Map.copyOf(alternatives);
    }

    @Override
    public String name() {
        return "flexq-promotable";
    }

    @Override
    public int priority() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Availability availability() {
        return Availability.yes("switches FQ6 linears to " + alternativeType.name() + " through " + kernels.all().stream().map(WeightBackend::name).toList());
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return type.id() == Fq6Layout.TYPE_ID;
    }

    @Override
    public WeightMatrix load(WeightSource source) {
        byte[] alt = alternatives.get(source.name());
        if (alt == null || !LinearTensors.isLinear(source.name())) {
            return kernels.load(source);
        }
        WeightMatrix stored = kernels.load(source);
        WeightMatrix promoted = kernels.load(new WeightSource(source.name(), alternativeType, source.rows(), source.cols(),
                MemorySegment.ofArray(alt), source.modelMetadata()));
        Promotable p = new Promotable(source.name(), source.rows(), source.cols(), stored, promoted);
        matrices.put(source.name(), p);
        return p;
    }

    /** The switchable matrices loaded so far, by tensor name, in load order. */
    public Map<String, Promotable> matrices() {
        return Collections.unmodifiableMap(matrices);
    }

    /** An FQ6 linear that runs as stored or as its alternative encoding. */
    public static final class Promotable extends ChosenMatrix {
        private final WeightMatrix stored;
        private final WeightMatrix promoted;
        private boolean usePromoted;

        Promotable(String name, int rows, int cols, WeightMatrix stored, WeightMatrix promoted) {
            super(name, rows, cols, List.of(stored, promoted));
            this.stored = stored;
            this.promoted = promoted;
        }

        public void promote(boolean on) {
            usePromoted = on;
        }

        @Override
        WeightMatrix current() {
            return usePromoted ? promoted : stored;
        }

        @Override
        public String describe() {
            return (usePromoted ? "promoted: " + promoted.describe() : stored.describe());
        }
    }
}
