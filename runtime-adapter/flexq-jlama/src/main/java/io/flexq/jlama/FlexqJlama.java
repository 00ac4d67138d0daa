package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.SafeTensorSupport;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.tensor.operations.TensorOperations;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.io.File;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * FQ6 models in an unchanged Jlama 0.8.4, as a library call:
 * <pre>
 *   AbstractModel model = FlexqJlama.load(Path.of("models/Llama-3.2-1B"), Mode.A8);
 *   model.generate(...);   // Jlama's own API from here on
 * </pre>
 * The folder is an HF model Jlama can load. Its linear weights become FQ6: read from an FQ6 GGUF made by
 * {@code flexq quantize} from the same model when one is given ({@value #FQ6_PROPERTY} or a file
 * {@value #FQ6_FILE} in the folder), else quantized at load. Products on them run on FlexQ (CUDA when
 * flexq-cuda and a GPU are there, the exact CPU kernels otherwise); everything else is Jlama's.
 *
 * <p>Jlama picks its operations once, in a private singleton with no setter. With the agent
 * ({@code -javaagent:flexq-jlama.jar}) that choice is rewritten at class load; without it this class swaps
 * the singleton's final field by reflection, which JDK 25 allows (JDK 26 warns, JEP 500): the agent is the
 * clean route. Either way one summary line at exit says where the products went.
 */
public final class FlexqJlama {

    /** System property naming an FQ6 GGUF to take the weights from. */
    public static final String FQ6_PROPERTY = "flexq.jlama.fq6";
    /** An FQ6 GGUF with this name inside the model folder is used when the property is not set. */
    public static final String FQ6_FILE = "model.fq6.gguf";

    private static volatile FlexqOperations installed;

    private FlexqJlama() {
    }

    /** {@link #load(Path, Mode)} with W6A8. */
    public static AbstractModel load(Path dir) {
        return load(dir, Mode.A8);
    }

    /** Jlama's own model object for the HF folder {@code dir}, linears in FQ6, F32 working memory. */
    public static AbstractModel load(Path dir, Mode mode) {
        JlamaVersion.require(TensorOperationsProvider.class.getClassLoader());
        operations();
        return ModelSupport.loadModel(AbstractModel.InferenceType.FULL_GENERATION, dir.toFile(), null, DType.F32, DType.F32,
                Optional.empty(), Optional.empty(), Optional.empty(), d -> wrap(SafeTensorSupport.loadWeights(d), d, mode));
    }

    /**
     * Jlama's loader for {@code dir} with FQ6 linears: what the agent's rewritten
     * {@code SafeTensorSupport.loadWeights} returns.
     */
    public static FlexqWeightLoader wrap(WeightLoader jlama, File dir, Mode mode) {
        if (jlama instanceof FlexqWeightLoader f) {
            return f;
        }
        ClassLoader cl = FlexqJlama.class.getClassLoader();
        Placement backends = Placement.fromProperties(Backends.discover(cl, line -> { }));
        backends.describe(System.err::println);
        TensorType fq6 = BuiltinTypes.registry(cl).require(Fq6Layout.TYPE_ID, "flexq-jlama");
        Optional<Path> file = fq6File(dir.toPath());
        Fq6Weights source = file.isPresent() ? Fq6GgufWeights.open(file.get(), dir.toPath(), mode, backends, fq6)
                : new QuantizeAtLoad(mode, backends, fq6);
        System.err.println("flexq-jlama: " + dir + ": linear weights FQ6, " + source.describe());
        return new FlexqWeightLoader(jlama, source);
    }

    private static Optional<Path> fq6File(Path dir) {
        String p = System.getProperty(FQ6_PROPERTY);
        if (p != null && !p.isBlank()) {
            Path f = Path.of(p);
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("flexq-jlama: -D" + FQ6_PROPERTY + "=" + p + ": no such file");
            }
            return Optional.of(f);
        }
        Path f = dir.resolve(FQ6_FILE);
        return Files.isRegularFile(f) ? Optional.of(f) : Optional.empty();
    }

    /** The installed FlexQ operations: the agent's, or ones installed now (see the class comment). */
    public static FlexqOperations operations() {
        TensorOperations current = TensorOperationsProvider.get();
        if (current instanceof FlexqOperations f) {
            return f;
        }
        synchronized (FlexqJlama.class) {
            current = TensorOperationsProvider.get();
            if (current instanceof FlexqOperations f) {
                return f;
            }
            FlexqOperations f = wrapOperations(current);
            try {
                Field instance = TensorOperationsProvider.class.getDeclaredField("instance");
                instance.setAccessible(true);
                Field provider = TensorOperationsProvider.class.getDeclaredField("provider");
                provider.setAccessible(true);
                provider.set(instance.get(null), f);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("flexq-jlama: cannot install FlexQ's operations into Jlama without the agent ("
                        + e + "); run java with -javaagent:flexq-jlama.jar", e);
            }
            return f;
        }
    }

    /**
     * Wraps Jlama's chosen operations once per process and registers the exit summary; the agent's rewritten
     * {@code pickFastestImplementation} returns this.
     */
    public static synchronized FlexqOperations wrapOperations(TensorOperations jlama) {
        if (jlama instanceof FlexqOperations f) {
            return f;
        }
        FlexqOperations f = new FlexqOperations(jlama, new Routing());
        if (installed == null) {
            installed = f;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println(f.routing().summary(jlama.name())), "flexq-jlama-summary"));
        }
        return f;
    }
}
