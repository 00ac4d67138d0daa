package io.flexq.jlama;

import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import io.flexq.plugin.cpu.FlexqCpuMatrix;
import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.spi.Backends;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every refusal names what it refuses: Jlama version, mode, FQ6 file of another model, column slices, element access. */
class RefusalsTest {

    @TempDir
    Path tmp;

    @Test
    void theJlamaVersionComesFromTheJarsMavenPropertiesAndOnlyTheSupportedOneIsAccepted() throws Exception {
        assertEquals(Optional.of("0.8.4"), JlamaVersion.find(TensorOperationsProvider.class.getClassLoader()));
        Path props = tmp.resolve(JlamaVersion.PROPERTIES);
        Files.createDirectories(props.getParent());
        Files.writeString(props, "groupId=com.github.tjake\nartifactId=jlama-core\nversion=0.9.0\n");
        try (URLClassLoader other = new URLClassLoader(new URL[]{tmp.toUri().toURL()}, null)) {
            assertEquals(Optional.of("0.9.0"), JlamaVersion.find(other));
            var e = assertThrows(IllegalStateException.class, () -> JlamaVersion.require(other));
            assertEquals("flexq-jlama: Jlama 0.9.0 is not supported; this flexq-jlama works with Jlama 0.8.4 only", e.getMessage());
        }
        try (URLClassLoader none = new URLClassLoader(new URL[0], null)) {
            assertTrue(assertThrows(IllegalStateException.class, () -> JlamaVersion.require(none)).getMessage().contains("no jlama-core"));
        }
    }

    @Test
    void modesParseAndABadOneIsNamed() {
        assertEquals(Mode.A8, Mode.parse("A8"));
        assertEquals(Mode.A16, Mode.parse("w6a16"));
        assertEquals(Mode.AUTO, Mode.parse("auto"));
        assertEquals("flexq-jlama: mode 'a4' is not one of a8, a6, a16, auto",
                assertThrows(IllegalArgumentException.class, () -> Mode.parse("a4")).getMessage());
    }

    @Test
    void anFq6FileOfAnotherFolderIsRefusedByItsSourceHash() throws Exception {
        Path dir = Fixtures.hfFolder(Fixtures.REF27M);
        Path fq6 = Fixtures.fq6(Fixtures.REF27M, "flexq-ref-27M-tok4096.bin");
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.createSymbolicLink(other.resolve(f.getFileName()), f);
            }
        }
        Files.delete(other.resolve("README.md"));
        Files.writeString(other.resolve("README.md"), "another model\n");
        Placement backends = Placement.fromProperties(Backends.discover(getClass().getClassLoader(), s -> { }));
        var fq6Type = BuiltinTypes.registry(getClass().getClassLoader()).require(1030, "test");
        var e = assertThrows(ModelFormatException.class, () -> Fq6GgufWeights.open(fq6, other, Mode.A8, backends, fq6Type));
        assertTrue(e.getMessage().contains("was made from a model with sha256") && e.getMessage().contains(other.toString()), e.getMessage());
        Fq6GgufWeights.open(fq6, dir, Mode.A8, backends, fq6Type).close();
    }

    @Test
    void fq6TensorsStayFq6AndRefuseElementAccessAndColumnSlices() {
        float[] w = new float[64 * 256];
        Random rnd = new Random(5);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        var m = new FlexqCpuMatrix("blk.0.attn_q.weight", WeightQuantizer.rtn().quantize("q", w, 64, 256).weights(), ActivationMode.A8,
                new ForkJoinPool(1));
        Fq6Tensor t = new Fq6Tensor("model.layers.0.self_attn.q_proj.weight", m);
        assertSame(t, t.quantize(DType.Q4));
        assertSame(t, t.quantize(DType.I8, true));
        var e = assertThrows(UnsupportedOperationException.class, () -> t.get(0, 0));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj.weight") && e.getMessage().contains("read an element"), e.getMessage());
        FlexqOperations ops = new FlexqOperations(TensorOperationsProvider.get() instanceof FlexqOperations f ? f.delegate() : TensorOperationsProvider.get(),
                new Routing());
        FloatBufferTensor x = new FloatBufferTensor(1, 256);
        FloatBufferTensor y = new FloatBufferTensor(1, 64);
        e = assertThrows(UnsupportedOperationException.class, () -> ops.dotProductChunk(y, x, t, 128, 128, 0, 64));
        assertTrue(e.getMessage().contains("sharded / distributed"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class, () -> ops.accumulate(y, t, 0, 64));
        assertTrue(e.getMessage().contains("reached an operation FlexQ does not serve"), e.getMessage());
        assertEquals(1, ops.routing().fq6TensorsThatReachedJlama());
        ops.dotProductChunk(y, x, t, 0, 256, 0, 64);
        assertEquals(Long.valueOf(1), ops.routing().flexqChunksByTensor().get("model.layers.0.self_attn.q_proj.weight"));
        assertTrue(ops.parallelSplitSize() >= 2);
    }
}
