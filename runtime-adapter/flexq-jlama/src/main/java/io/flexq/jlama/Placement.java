package io.flexq.jlama;

import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Which FlexQ backend holds each FQ6 matrix inside Jlama. Jlama keeps activations, attention and norms on the CPU and
 * hands over one product at a time, so a matrix on the GPU costs a host -> device -> host round trip per product; that
 * pays only where reading the matrix on the CPU takes longer than the round trip.
 *
 * <p>System property {@value #DEVICE}: {@code auto} (default) puts a matrix of at least {@value #GPU_MIN_BYTES} bytes
 * of FQ6 data (default {@value #DEFAULT_GPU_MIN_BYTES}) on a device backend and smaller ones on the CPU; {@code cpu}
 * keeps every matrix on the CPU; {@code cuda} puts every matrix on a device backend and fails, with the backends'
 * reasons, where none is available. The default threshold comes from the H100 host's figures in
 * {@code bench/results/jlama.md}: a GPU product cost about 60 us more per call than the CPU's on the 27M model, and the
 * host's 16 cores stream FQ6 at about 130 GB/s, so a matrix breaks even near 8 MB.
 */
final class Placement {

    static final String DEVICE = "flexq.device";
    static final String GPU_MIN_BYTES = "flexq.jlama.gpuMinBytes";
    static final long DEFAULT_GPU_MIN_BYTES = 8L << 20;

    private enum Where { AUTO, CPU, CUDA }

    private final Backends all;
    private final Backends host;
    /** The first available device backend of {@code all}, looked up once. */
    private final Optional<WeightBackend> device;
    private final Where where;
    private final long gpuMinBytes;

    private Placement(Backends all, Where where, long gpuMinBytes) {
        this.all = all;
        this.host = new Backends(all.all().stream().filter(b -> !b.onDevice()).toList(), line -> { });
        this.device = all.all().stream().filter(b -> b.onDevice() && b.availability().available()).findFirst();
        this.where = where;
        this.gpuMinBytes = gpuMinBytes;
    }

    /** The placement the system properties ask for, over {@code all}; a bad property value is an error naming it. */
    static Placement fromProperties(Backends all) {
        String d = System.getProperty(DEVICE, "auto").trim().toLowerCase(Locale.ROOT);
        Where where = switch (d) {
            case "auto" -> Where.AUTO;
            case "cpu" -> Where.CPU;
            case "cuda" -> Where.CUDA;
            default -> throw new IllegalArgumentException("flexq-jlama: -D" + DEVICE + "=" + System.getProperty(DEVICE)
                    + ": must be auto, cpu or cuda");
        };
        long min = DEFAULT_GPU_MIN_BYTES;
        String m = System.getProperty(GPU_MIN_BYTES);
        if (m != null) {
            try {
                min = Long.parseLong(m.trim());
            } catch (NumberFormatException e) {
                min = -1;
            }
            if (min < 0) {
                throw new IllegalArgumentException("flexq-jlama: -D" + GPU_MIN_BYTES + "=" + m + ": must be a byte count >= 0");
            }
        }
        Placement p = new Placement(all, where, min);
        if (where == Where.CUDA && p.device.isEmpty()) {
            throw new IllegalStateException("flexq-jlama: -D" + DEVICE + "=cuda: no device backend is available ("
                    + p.reasons() + ")");
        }
        return p;
    }

    /** The backend that will hold a matrix of {@code source}'s size, loaded. */
    WeightMatrix load(WeightSource source) {
        return onDevice(source.data().byteSize()) ? all.load(source) : host.load(source);
    }

    /** Whether a matrix of {@code bytes} bytes goes to a device backend. */
    boolean onDevice(long bytes) {
        return switch (where) {
            case CPU -> false;
            case CUDA -> true;
            case AUTO -> bytes >= gpuMinBytes && device.isPresent();
        };
    }

    /** One line for stderr at load: where matrices go and how to change it. */
    void describe(Consumer<String> out) {
        String name = device.map(WeightBackend::name).orElse(null);
        String rule = switch (where) {
            case CPU -> "every FQ6 matrix on the CPU";
            case CUDA -> "every FQ6 matrix on " + name;
            case AUTO -> name == null ? "every FQ6 matrix on the CPU (no device backend: " + reasons() + ")"
                    : String.format(Locale.ROOT, "FQ6 matrices of %,d bytes or more on %s (one round trip per product), "
                    + "smaller ones on the CPU", gpuMinBytes, name);
        };
        out.accept("flexq-jlama: placement " + where.name().toLowerCase(Locale.ROOT) + ": " + rule + " (-D" + DEVICE
                + "=auto|cpu|cuda, -D" + GPU_MIN_BYTES + "=BYTES)");
    }

    private String reasons() {
        return all.all().stream().filter(WeightBackend::onDevice)
                .map(b -> b.name() + ": " + b.availability().reason()).reduce((a, b) -> a + "; " + b)
                .orElse("no device backend on the class path");
    }
}
