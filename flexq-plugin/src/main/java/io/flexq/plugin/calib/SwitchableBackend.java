package io.flexq.plugin.calib;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A weight backend for the sensitivity analysis: it loads every FQ6 matrix once per activation mode it may
 * need, through the backend the runtime would pick for it (the FlexQ CPU backend, or CUDA where present: the
 * same kernels the quantized model runs on), and lets the analysis
 * switch each matrix's mode between forward passes. The modes are requested the documented way, through the
 * {@code flexq.act_bits.<tensor>} key of the metadata handed to the backend; nothing reaches into the
 * backend's classes.
 *
 * <p>One instance per model being analysed (not a singleton); it is given to the forward pass in a
 * {@link io.flexq.runtime.spi.Backends} list ahead of the regular backends.
 */
public final class SwitchableBackend implements WeightBackend {

    private final Backends kernels;
    private final List<ActivationMode> modes;
    private final ActivationMode initial;
    private final Map<String, Switchable> matrices = new LinkedHashMap<>();

    /**
     * @param kernels the backends that run FQ6 (e.g. every backend on the class path)
     * @param modes   the modes each matrix is loaded in (e.g. A8 and A6)
     * @param initial the mode every matrix starts in
     */
    public SwitchableBackend(Backends kernels, List<ActivationMode> modes, ActivationMode initial) {
        if (!modes.contains(initial)) {
            throw new IllegalArgumentException("initial mode " + initial + " is not among " + modes);
        }
        this.kernels = kernels;
        this.modes = List.copyOf(modes);
        this.initial = initial;
    }

    @Override
    public String name() {
        return "flexq-switchable";
    }

    @Override
    public int priority() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Availability availability() {
        return Availability.yes("switches FQ6 matrices loaded by " + kernels.all().stream().map(WeightBackend::name).toList());
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return type.id() == Fq6Layout.TYPE_ID;
    }

    @Override
    public WeightMatrix load(WeightSource source) {
        if (!io.flexq.plugin.fq6.LinearTensors.isLinear(source.name())) {
            // an FQ6 head (or tied embedding) keeps the mode its metadata gives: the analysis switches linear layers only
            return kernels.load(source);
        }
        Map<ActivationMode, WeightMatrix> byMode = new EnumMap<>(ActivationMode.class);
        for (ActivationMode m : modes) {
            Map<String, Object> md = new HashMap<>(source.modelMetadata());
            md.put(ActivationMode.metadataKey(source.name()), (long) m.bits());
            byMode.put(m, kernels.load(new WeightSource(source.name(), source.type(), source.rows(), source.cols(), source.data(), md)));
        }
        Switchable s = new Switchable(source.name(), source.rows(), source.cols(), byMode, initial);
        matrices.put(source.name(), s);
        return s;
    }

    /** The matrices loaded so far, by tensor name, in load order. */
    public Map<String, Switchable> matrices() {
        return Collections.unmodifiableMap(matrices);
    }

    /** Puts every loaded matrix in {@code mode}. */
    public void setAll(ActivationMode mode) {
        matrices.values().forEach(m -> m.setMode(mode));
    }

    /** An FQ6 matrix whose activation mode can be changed between forward passes. */
    public static final class Switchable extends ChosenMatrix {
        private final Map<ActivationMode, WeightMatrix> byMode;
        private ActivationMode mode;

        Switchable(String name, int rows, int cols, Map<ActivationMode, WeightMatrix> byMode, ActivationMode mode) {
            super(name, rows, cols, List.copyOf(byMode.values()));
            this.byMode = byMode;
            this.mode = mode;
        }

        public ActivationMode mode() {
            return mode;
        }

        public void setMode(ActivationMode mode) {
            if (!byMode.containsKey(mode)) {
                throw new IllegalArgumentException(name() + ": not loaded in mode " + mode + " (loaded: " + byMode.keySet() + ")");
            }
            this.mode = mode;
        }

        @Override
        WeightMatrix current() {
            return byMode.get(mode);
        }

        @Override
        public String describe() {
            return "switchable " + mode + ": " + byMode.get(mode).describe();
        }
    }
}
