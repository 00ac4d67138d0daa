package io.flexq.samples.bench;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.FiniteWeights;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelShape;
import io.flexq.runtime.model.SyntheticModel;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import io.flexq.runtime.tensor.QuantTypes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the load-time finite check (issue 11: NaN/Inf weights are refused) costs: {@link FiniteWeights#check} over
 * every tensor of the 27M reference model (F16 GGUF, memory-mapped, in the page cache after the first pass) and of
 * a synthetic Llama 3.2 1B in Q8_0 (scales only) and F16 (every element). Printed bytes/s come from the sizes below.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"}) // run from the repository root (../shared)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class FiniteCheckBench {

    @Param({"ref27M-f16", "llama-3.2-1b-q8_0", "llama-3.2-1b-f16"})
    public String model;

    private ModelFile file;

    @Setup
    public void open() {
        file = switch (model) {
            case "ref27M-f16" -> GgufFile.open(java.nio.file.Path.of(System.getProperty("flexq.shared", "../shared"), "models/flexq-ref-27M-f16.gguf"),
                    BuiltinTypes.registry(FiniteCheckBench.class.getClassLoader()));
            case "llama-3.2-1b-q8_0" -> SyntheticModel.create(ModelShape.LLAMA_3_2_1B, QuantTypes.Q8_0, 1);
            case "llama-3.2-1b-f16" -> SyntheticModel.create(ModelShape.LLAMA_3_2_1B, FloatTypes.F16, 1);
            default -> throw new IllegalArgumentException(model);
        };
        long bytes = file.tensors().values().stream().mapToLong(t -> t.data().byteSize()).sum();
        System.out.printf("%n%s: %d tensors, %,d bytes of tensor data%n", model, file.tensors().size(), bytes);
    }

    @Benchmark
    public void check() {
        FiniteWeights.check(file);
    }

    @TearDown
    public void close() {
        file.close();
    }
}
