package io.flexq.plugin.cpu;

import io.flexq.plugin.fq6.Fq6Header;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Consumer;

/**
 * FlexQ's CPU backend ("flexq-cpu", priority 10): FQ6 matrices in W6A6, W6A8 or W6A16, exact integer
 * kernels: native (AVX-512 VNNI or AVX2, {@link NativeFq6}) where the library in the jar loads, else the Vector API;
 * both bit-identical to {@link IntegerReference}. The activation mode of each tensor comes from model metadata
 * {@code flexq.act_bits.<tensor name>} (6, 8 or 16); absent, it is 8 and the backend says so in its log.
 *
 * <p>Found by {@link java.util.ServiceLoader} through the no-argument constructor: its matrices share a
 * fork-join pool of {@code -Dflexq.threads} threads (default: every available processor; the common pool
 * would have one fewer), started by the first matrix loaded and shut down when the last one closes, so a
 * model's pool ends with the model ({@link PoolLease}). It logs to {@link System.Logger}. Embedding code
 * can pass its own pool (never shut down here) and log.
 */
public final class FlexqCpuBackend implements WeightBackend {

    static final ActivationMode DEFAULT_MODE = ActivationMode.A8;

    private final PoolLease pool;
    private final Consumer<String> log;

    public FlexqCpuBackend() {
        this(PoolLease.owned(PoolLease.defaultThreads()),
                // DEBUG: diagnostics, below the default INFO threshold of java.util.logging, whose console format
                // takes two lines per message (issue 11); a logging configuration at FINE shows them
                message -> System.getLogger("io.flexq.plugin.cpu").log(System.Logger.Level.DEBUG, message));
    }

    public FlexqCpuBackend(ForkJoinPool pool, Consumer<String> log) {
        this(PoolLease.borrowed(pool), log);
    }

    private FlexqCpuBackend(PoolLease pool, Consumer<String> log) {
        this.pool = pool;
        this.log = log;
    }

    /** Matmuls on the threads of {@code threads} (shared with the run's other CPU backends), logging as this one. */
    @Override
    public FlexqCpuBackend withThreads(PoolLease threads) {
        return new FlexqCpuBackend(threads, log);
    }

    @Override
    public String name() {
        return "flexq-cpu";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Availability.no("the Vector API is not enabled: run java with --add-modules jdk.incubator.vector");
        }
        // the one line that says whether the native kernels run, and why not
        return Availability.yes("Vector API, " + Int6Kernels.vectorDescription() + ", " + pool.threads() + " threads; W6A6/W6A8 kernels: "
                + (NativeFq6.get().available() ? NativeFq6.get().why() : "Vector API (native library: " + NativeFq6.get().why() + ")"));
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return type.id() == Fq6Layout.TYPE_ID && rows > 0 && cols > 0;
    }

    @Override
    public WeightMatrix load(WeightSource source) {
        if (!supports(source.type(), source.rows(), source.cols())) {
            throw new IllegalArgumentException(source.name() + ": flexq-cpu loads FQ6 (type id " + Fq6Layout.TYPE_ID
                    + ") matrices, not " + source.type().name() + " (id " + source.type().id() + ") "
                    + source.rows() + " x " + source.cols());
        }
        Fq6Header.check(source.modelMetadata(), source.name(), true);
        ActivationMode mode = activationMode(source.name(), source.modelMetadata());
        FlexqWeights w = FlexqWeights.readFq6(source.name(), source.data(), source.rows(), source.cols());
        PoolLease.Hold hold = pool.acquire();
        try {
            return new FlexqCpuMatrix(source.name(), w,
                    () -> FlexqWeights.readFq6(source.name(), source.data(), source.rows(), source.cols()), mode, hold);
        } catch (RuntimeException | Error e) {
            hold.close();
            throw e;
        }
    }

    /** The mode stored under {@code flexq.act_bits.<name>}, or A8 (logged) when absent. */
    ActivationMode activationMode(String tensorName, Map<String, Object> metadata) {
        String key = ActivationMode.metadataKey(tensorName);
        Object value = metadata == null ? null : metadata.get(key);
        if (value == null) {
            log.accept(tensorName + ": no metadata key " + key + ", running W6" + DEFAULT_MODE);
            return DEFAULT_MODE;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte)) {
            throw new IllegalArgumentException("metadata key " + key + " should be an integer (6, 8 or 16), is "
                    + value.getClass().getSimpleName() + " " + value);
        }
        return ActivationMode.ofBits(((Number) value).longValue(), "metadata key " + key);
    }
}
