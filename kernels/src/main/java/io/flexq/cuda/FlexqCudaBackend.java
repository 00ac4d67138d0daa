package io.flexq.cuda;

import io.flexq.plugin.fq6.Fq6Header;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * FlexQ on a CUDA GPU ("flexq-cuda", priority 20, above flexq-cpu's 10): FQ6 matrices in W6A6 and W6A8
 * run on the INT8-MMA and bit-serial (BTC) kernels of flexq.cu, W6A16 on an fp32 kernel. Availability is
 * probed once, lazily, and never throws: without a usable GPU the backend reports why and the runtime
 * picks the CPU path.
 *
 * <p>Layouts kept per matrix ({@code -Dflexq.cuda.layouts}): {@code auto} (default) keeps what the
 * dispatcher's measured choices need (on the H200 that is the int8 layout only: it won at every M),
 * {@code int8}, {@code planes} or {@code both}.
 */
public final class FlexqCudaBackend implements WeightBackend, AutoCloseable {

    private final int ordinal;
    private final Consumer<String> log;
    private Availability availability;
    private CudaDevice device;
    private Dispatcher dispatcher;

    /** For {@link java.util.ServiceLoader}: device {@code -Dflexq.cuda.device} (default 0), logging to {@link System.Logger}. */
    public FlexqCudaBackend() {
        this(Integer.getInteger("flexq.cuda.device", 0),
                // DEBUG: diagnostics, below the default INFO threshold of java.util.logging, whose console format
                // takes two lines per message (issue 11); a logging configuration at FINE shows them
                message -> System.getLogger("io.flexq.cuda").log(System.Logger.Level.DEBUG, message));
    }

    public FlexqCudaBackend(int ordinal, Consumer<String> log) {
        this.ordinal = ordinal;
        this.log = log;
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
    public boolean onDevice() {
        return true;
    }

    @Override
    public synchronized Availability availability() {
        if (availability == null) {
            availability = CudaProbe.probe(ordinal);
        }
        return availability;
    }

    @Override
    public boolean supports(TensorType type, int rows, int cols) {
        return type.id() == Fq6Layout.TYPE_ID && rows > 0 && cols > 0 && availability().available();
    }

    /** The device, opened on first use. */
    public synchronized CudaDevice device() {
        if (!availability().available()) {
            throw new IllegalStateException("flexq-cuda is unavailable: " + availability().reason());
        }
        if (device == null) {
            device = CudaDevice.open(ordinal);
            dispatcher = Dispatcher.forDevice(device.computeCapability(), device.smCount());
            FlexqKernels k = device.kernels();
            log.accept("flexq-cuda: " + device.describe() + ", kernels from " + k.origin() + ", dispatch table of "
                    + dispatcher.table().size() + " measured entries");
        }
        return device;
    }

    @Override
    public WeightMatrix load(WeightSource source) {
        if (source.type().id() != Fq6Layout.TYPE_ID) {
            throw new IllegalArgumentException(source.name() + ": flexq-cuda loads FQ6 (type id " + Fq6Layout.TYPE_ID + ") matrices, not "
                    + source.type().name() + " (id " + source.type().id() + ")");
        }
        int rows = source.rows(), cols = source.cols();
        long expected = Fq6Layout.byteSize(rows, cols);
        if (source.data().byteSize() != expected) {
            throw new IllegalArgumentException(source.name() + ": FQ6 tensor of " + rows + " x " + cols + " must be " + expected
                    + " bytes, got " + source.data().byteSize());
        }
        Fq6Header.check(source.modelMetadata(), source.name(), true);
        ActivationMode mode = activationMode(source.name(), source.modelMetadata());
        CudaDevice dev = device();
        synchronized (dev) {
            dev.makeCurrent();
            FlexqKernels k = dev.kernels();
            DeviceBuffer raw = dev.alloc(expected, source.name() + " FQ6");
            DeviceBuffer int8 = null, planes = null, scales = null;
            try {
                raw.upload(source.data(), 0);
                if (mode == ActivationMode.A16) {
                    return new CudaFq6Matrix(source.name(), rows, cols, mode, dev, dispatcher, raw, null, null, null);
                }
                String layouts = System.getProperty("flexq.cuda.layouts", "auto").toLowerCase(Locale.ROOT);
                boolean wantPlanes = layouts.equals("planes") || layouts.equals("both") || layouts.equals("auto") && dispatcherUsesPlanes(mode);
                boolean wantInt8 = !layouts.equals("planes");
                if (wantInt8) {
                    int8 = dev.alloc(FlexqKernels.tileBytes(rows, cols), source.name() + " int8 tiles");
                }
                if (wantPlanes) {
                    planes = dev.alloc(FlexqKernels.tileBytes(rows, cols), source.name() + " bit-plane tiles");
                }
                scales = dev.alloc(FlexqKernels.scaleTileBytes(rows, cols), source.name() + " scale tiles");
                k.repack(raw, rows, cols, planes, int8, scales);
                dev.synchronize(() -> "repacking " + source.name() + " (" + rows + " x " + cols + ")");
                raw.close();
                return new CudaFq6Matrix(source.name(), rows, cols, mode, dev, dispatcher, null, int8, planes, scales);
            } catch (RuntimeException e) {
                for (DeviceBuffer b : new DeviceBuffer[] {raw, int8, planes, scales}) {
                    if (b != null) {
                        b.close();
                    }
                }
                throw e;
            }
        }
    }

    private boolean dispatcherUsesPlanes(ActivationMode mode) {
        return dispatcher.table().stream().anyMatch(e -> e.bits() == mode.bits()
                && KernelSpec.byName(e.kernel()).map(s -> s.path().planes()).orElse(false));
    }

    /** The mode stored under {@code flexq.act_bits.<name>}; absent, A8 (as flexq-cpu), logged. */
    ActivationMode activationMode(String tensorName, Map<String, Object> metadata) {
        String key = ActivationMode.metadataKey(tensorName);
        Object value = metadata == null ? null : metadata.get(key);
        if (value == null) {
            log.accept(tensorName + ": no metadata key " + key + ", running W6A8");
            return ActivationMode.A8;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte)) {
            throw new IllegalArgumentException("metadata key " + key + " should be an integer (6, 8 or 16), is "
                    + value.getClass().getSimpleName() + " " + value);
        }
        return ActivationMode.ofBits(((Number) value).longValue(), "metadata key " + key);
    }

    @Override
    public synchronized void close() {
        if (device != null) {
            device.close();
            device = null;
        }
    }
}
