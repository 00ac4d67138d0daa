package io.flexq.samples.bench;

import io.flexq.plugin.cpu.FlexqCpuBackend;
import io.flexq.plugin.cpu.FlexqTensorTypes;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import io.flexq.runtime.tensor.Quantizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * One linear layer on the CPU: FlexQ's FQ6 (W6A8, W6A6, W6A16; backend "flexq-cpu") against the runtime's
 * own F32 and Q8_0 kernels (backend "cpu"), same random weights (Gaussian, sigma 0.02, fixed seed), same
 * thread count. {@code shape} is rows x cols = outputs x inputs: 4096x4096 (attention projections of a
 * 7B Llama), 11008x4096 (ffn_gate / ffn_up), 4096x11008 (ffn_down). Every call marks the input as changed,
 * so FlexQ's timing includes quantizing the activations (done once per layer input in a model).
 *
 * <p>Run: see bench/README.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FlexqMatmulBench {

    @Param({"4096x4096", "11008x4096", "4096x11008"})
    public String shape;

    @Param({"1", "16"})
    public int tokens;

    @Param({"FQ6_W6A8", "FQ6_W6A6", "FQ6_W6A16", "F32", "Q8_0"})
    public String kind;

    /** Worker threads for both backends; 0 = every available processor. */
    @Param({"0"})
    public int threads;

    private Arena arena;
    private ForkJoinPool pool;
    private WeightMatrix matrix;
    private ActivationBatch in;
    private ActivationBatch out;

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        arena = Arena.ofShared();
        pool = new ForkJoinPool(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        SplittableRandom rnd = new SplittableRandom(20250801L);
        float[] w = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        matrix = switch (kind) {
            case "F32" -> new CpuBackend(pool).load("w", FloatTypes.F32, rows, cols, copy(floatBytes(w)));
            case "Q8_0" -> new CpuBackend(pool).load("w", QuantTypes.Q8_0, rows, cols, copy(Quantizers.quantize(QuantTypes.Q8_0, w, rows, cols)));
            default -> {
                ActivationMode mode = ActivationMode.valueOf(kind.substring("FQ6_W6".length()));
                FlexqWeights q = WeightQuantizer.rtn().quantize("w", w, rows, cols).weights();
                TensorType fq6 = new FlexqTensorTypes().tensorTypes().getFirst();
                yield new FlexqCpuBackend(pool, s -> { }).load(new WeightSource("w", fq6, rows, cols, copy(q.toFq6Bytes()),
                        Map.of(ActivationMode.metadataKey("w"), (long) mode.bits())));
            }
        };
        in = ActivationBatch.allocate(arena, tokens, cols);
        out = ActivationBatch.allocate(arena, tokens, rows);
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                in.set(t, c, (float) rnd.nextGaussian());
            }
        }
    }

    @Benchmark
    public ActivationBatch matmul() {
        in.changed();
        matrix.matmul(in, out);
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        matrix.close();
        pool.shutdown();
        arena.close();
    }

    private MemorySegment copy(byte[] bytes) {
        MemorySegment seg = arena.allocate(bytes.length, 64);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return seg;
    }

    private static byte[] floatBytes(float[] w) {
        byte[] b = new byte[Math.multiplyExact(w.length, 4)];
        MemorySegment.copy(w, 0, MemorySegment.ofArray(b), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, w.length);
        return b;
    }
}
