package io.flexq.conformance;

import io.flexq.plugin.cpu.FlexqCpuBackend;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.cpu.CpuBackend;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kit fails backends that are wrong in the ways backends go wrong, so a pass means something: a dropped last
 * column, a stale cached result, activations quantized to A6 when A8 was asked, an unavailable backend.
 */
class KitSelfTest {

    static final ForkJoinPool POOL = new ForkJoinPool(1);
    static final TensorTypes TYPES = BuiltinTypes.registry(KitSelfTest.class.getClassLoader());
    static final TensorType FQ6 = TYPES.require(Fq6Layout.TYPE_ID, "self test");

    /** A backend that delegates to {@code inner} and lets a test break the matrices it hands out. */
    record Broken(String name, WeightBackend inner, UnaryOperator<WeightSource> source, MatrixBreaker breaker) implements WeightBackend {
        @Override public int priority() { return 1; }
        @Override public Availability availability() { return Availability.yes("test double"); }
        @Override public boolean supports(TensorType type, int rows, int cols) { return inner.supports(type, rows, cols); }
        @Override public WeightMatrix load(WeightSource s) { return breaker.wrap(inner.load(source.apply(s))); }
    }

    interface MatrixBreaker {
        WeightMatrix wrap(WeightMatrix m);
    }

    /** A matrix whose matmul is replaced by {@code body}, everything else delegated. */
    record Wrapped(WeightMatrix inner, Matmul body) implements WeightMatrix {
        interface Matmul {
            void run(WeightMatrix inner, ActivationBatch in, ActivationBatch out);
        }
        @Override public String name() { return inner.name(); }
        @Override public int rows() { return inner.rows(); }
        @Override public int cols() { return inner.cols(); }
        @Override public void matmul(ActivationBatch in, ActivationBatch out) { body.run(inner, in, out); }
        @Override public String describe() { return "broken " + inner.describe(); }
        @Override public void close() { inner.close(); }
    }

    static MatmulConformance kit() {
        return new MatmulConformance(TypeEncoders.standard(), MatmulConformance.DEFAULT_SEED);
    }

    @Test
    void aBackendThatIgnoresTheLastColumnFails() {
        WeightBackend b = new Broken("drops-last-column", new CpuBackend(POOL), s -> s, m -> new Wrapped(m, (inner, in, out) -> {
            try (Arena arena = Arena.ofConfined()) {
                ActivationBatch copy = ActivationBatch.allocate(arena, in.tokens(), in.dim());
                MemorySegment.copy(in.data(), 0, copy.data(), 0, (long) in.tokens() * in.dim() * Float.BYTES);
                for (int t = 0; t < in.tokens(); t++) {
                    copy.set(t, in.dim() - 1, 0f);
                }
                inner.matmul(copy, out);
            }
        }));
        MatmulReport r = kit().run(b, FloatTypes.F32, Variant.forType(FloatTypes.F32).getFirst());
        System.out.println("[conformance] self test, a deliberately broken backend the kit must reject: " + r.summary());
        // shapes whose zero last token has no live activations aside, every shape must fail
        assertEquals(r.checked(), r.failures().size(), r::failureReport);
    }

    @Test
    void aBackendThatReturnsAStaleResultForChangedInputFails() {
        WeightBackend b = new Broken("stale", new CpuBackend(POOL), s -> s, m -> {
            Map<String, float[]> cache = new HashMap<>();
            return new Wrapped(m, (inner, in, out) -> {
                float[] y = cache.computeIfAbsent("y", k -> {
                    inner.matmul(in, out);
                    float[] a = new float[in.tokens() * inner.rows()];
                    MemorySegment.copy(out.data(), ValueLayout.JAVA_FLOAT, 0, a, 0, a.length);
                    return a;
                });
                WeightMatrix.checkShapes(inner, in, out);
                MemorySegment.copy(y, 0, out.data(), ValueLayout.JAVA_FLOAT, 0, y.length);
            });
        });
        MatmulReport r = kit().run(b, FloatTypes.F32, Variant.forType(FloatTypes.F32).getFirst(), List.of(new Shape(7, 64, 3)));
        assertEquals(1, r.failures().size(), r::failureReport);
        assertTrue(r.failures().getFirst().detail().contains("pass 1"), r::failureReport);
    }

    @Test
    void a6ActivationsForAnA8TensorFailTheSpreadCheck() {
        // flexq-cpu told A6 whatever the metadata says: within the A8 worst case often, but 4x the A8 spread
        String key = io.flexq.plugin.quant.ActivationMode.metadataKey(MatmulConformance.TENSOR);
        WeightBackend b = new Broken("a6-for-a8", new FlexqCpuBackend(POOL, s -> { }),
                s -> new WeightSource(s.name(), s.type(), s.rows(), s.cols(), s.data(), Map.of(key, 6L)), m -> m);
        MatmulReport r = kit().run(b, FQ6, Variant.fq6(ActivationMode.A8), List.of(new Shape(67, 401, 17), new Shape(33, 200, 3)));
        System.out.println("[conformance] self test, a deliberately broken backend the kit must reject: " + r.failureReport());
        assertEquals(2, r.failures().size(), r::failureReport);
        assertTrue(r.failures().stream().allMatch(f -> f.rmsSigmas() > ErrorModel.QuantizedActivations.MAX_RMS_SIGMAS), r::failureReport);
        // and the right mode passes the same shapes
        MatmulReport ok = kit().run(new FlexqCpuBackend(POOL, s -> { }), FQ6, Variant.fq6(ActivationMode.A8),
                List.of(new Shape(67, 401, 17), new Shape(33, 200, 3)));
        assertTrue(ok.failures().isEmpty(), ok::failureReport);
    }

    @Test
    void theGoldenCheckFailsABackendRunningTheWrongActivationMode() throws URISyntaxException {
        Fq6GoldenCase c = Fq6GoldenCase.load(Path.of(getClass().getResource("/golden/k200_n17_t5/case.txt").toURI()).getParent());
        String key = io.flexq.plugin.quant.ActivationMode.metadataKey(MatmulConformance.TENSOR);
        WeightBackend b = new Broken("a8-for-a6", new FlexqCpuBackend(POOL, s -> { }),
                s -> new WeightSource(s.name(), s.type(), s.rows(), s.cols(), s.data(), Map.of(key, 8L)), m -> m);
        Fq6GoldenCheck.Result r = Fq6GoldenCheck.run(b, FQ6, c, ActivationMode.A6, PartialsProbe.standard());
        System.out.println("[conformance] self test, a deliberately broken backend the kit must reject: " + r);
        assertEquals(Fq6GoldenCheck.Verdict.FAILS, r.verdict(), r::toString);
        assertTrue(r.partials().startsWith("MISMATCH"), r::toString);
    }

    @Test
    void anUnavailableBackendIsListedAsSkippedWithItsReasonAndAThrowingOneToo() {
        WeightBackend unavailable = new WeightBackend() {
            @Override public String name() { return "no-gpu"; }
            @Override public int priority() { return 50; }
            @Override public Availability availability() { return Availability.no("no CUDA device found"); }
            @Override public boolean supports(TensorType type, int rows, int cols) { return true; }
            @Override public WeightMatrix load(WeightSource source) { throw new AssertionError("must not be loaded"); }
        };
        WeightBackend throwing = new WeightBackend() {
            @Override public String name() { return "broken-probe"; }
            @Override public int priority() { return 40; }
            @Override public Availability availability() { throw new UnsatisfiedLinkError("libcudart.so not found"); }
            @Override public boolean supports(TensorType type, int rows, int cols) { return true; }
            @Override public WeightMatrix load(WeightSource source) { throw new AssertionError("must not be loaded"); }
        };
        BackendRoster roster = BackendRoster.of(List.of(new CpuBackend(POOL), unavailable, throwing));
        assertEquals(List.of("cpu"), roster.available().stream().map(BackendRoster.Entry::name).toList());
        assertEquals(List.of("no-gpu", "broken-probe"), roster.skipped().stream().map(BackendRoster.Entry::name).toList());
        assertTrue(roster.describe().contains("SKIPPED, no CUDA device found"), roster::describe);
        assertTrue(roster.describe().contains("libcudart.so not found"), roster::describe);
    }
}
