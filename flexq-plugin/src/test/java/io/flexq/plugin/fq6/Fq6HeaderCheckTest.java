package io.flexq.plugin.fq6;

import io.flexq.plugin.cpu.FlexqCpuBackend;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.spi.WeightSource;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 3: FQ6 files with flexq.format_version 2, 999, 0 or none, or flexq.group_size 2, 999, 0 or none,
 * loaded, because only Fq6File.open checked them and no command called it. Every way an FQ6 tensor is opened
 * must check them: opening the GGUF (whatever command does it), and a backend given FQ6 weights with the file's
 * metadata.
 */
class Fq6HeaderCheckTest {

    private static final ClassLoader LOADER = Fq6HeaderCheckTest.class.getClassLoader();
    private static final TensorTypes TYPES = BuiltinTypes.registry(LOADER);

    @TempDir
    Path dir;

    /** An FQ6 file with the given header values; null leaves a key out. */
    private Path fq6(String name, Long version, Long group) throws Exception {
        Path src = new SyntheticLlama(128, 128, 1, 4, 2, 64, 3).write(dir.resolve(name + ".src.gguf"), FloatTypes.F32);
        Path out = dir.resolve(name);
        try (ModelFile m = GgufFile.open(src, TYPES)) {
            List<ModelQuantizer.Layer> layers = ModelQuantizer.quantize(m, WeightQuantizer.clipping(), (a, b) -> { });
            Map<String, Object> v = new LinkedHashMap<>();
            Map<String, GgufType> ty = new LinkedHashMap<>();
            if (version != null) {
                v.put(Fq6Keys.VERSION, version);
                ty.put(Fq6Keys.VERSION, GgufType.UINT32);
            }
            if (group != null) {
                v.put(Fq6Keys.GROUP_SIZE, group);
                ty.put(Fq6Keys.GROUP_SIZE, GgufType.UINT32);
            }
            Fq6File.write(ModelQuantizer.assemble(m, MetadataTypes.of(m), layers, TYPES.require(Fq6Layout.TYPE_ID, "test"), v, ty, out), out);
        }
        return out;
    }

    private static void refusedEverywhere(Path p, String key) {
        for (var open : List.<Runnable>of(() -> GgufFile.open(p, TYPES).close(), () -> ModelFiles.open(p, TYPES).close(),
                () -> Fq6File.open(p, TYPES).close())) {
            var e = assertThrows(ModelFormatException.class, open::run, p + " " + key);
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains(key), e.getMessage());
        }
    }

    @Test
    void aGoodHeaderOpens() throws Exception {
        Path ok = fq6("ok.gguf", 1L, 128L);
        assertDoesNotThrow(() -> GgufFile.open(ok, TYPES).close());
        assertDoesNotThrow(() -> Fq6File.open(ok, TYPES).close());
    }

    @Test
    void badOrMissingFormatVersionIsRefusedWhereverTheFileIsOpened() throws Exception {
        for (Long v : new Long[] {2L, 999L, 0L, null}) {
            refusedEverywhere(fq6("v" + v + ".gguf", v, 128L), Fq6Keys.VERSION);
        }
    }

    @Test
    void badOrMissingGroupSizeIsRefusedWhereverTheFileIsOpened() throws Exception {
        for (Long g : new Long[] {2L, 999L, 0L, null}) {
            refusedEverywhere(fq6("g" + g + ".gguf", 1L, g), Fq6Keys.GROUP_SIZE);
        }
    }

    /** A backend handed FQ6 weights with a model's metadata checks the same keys (in-memory sources carry none). */
    @Test
    void theCpuBackendChecksTheHeaderItIsGiven() throws Exception {
        Path ok = fq6("b.gguf", 1L, 128L);
        try (GgufFile g = GgufFile.open(ok, TYPES)) {
            TensorEntry t = g.tensor("blk.0.attn_q.weight");
            FlexqCpuBackend backend = new FlexqCpuBackend(ForkJoinPool.commonPool(), s -> { });
            for (var bad : List.of(Map.<String, Object>of(Fq6Keys.VERSION, 2L, Fq6Keys.GROUP_SIZE, 128L),
                    Map.<String, Object>of(Fq6Keys.VERSION, 1L, Fq6Keys.GROUP_SIZE, 999L),
                    Map.<String, Object>of(Fq6Keys.GROUP_SIZE, 128L))) {
                Map<String, Object> md = new HashMap<>(bad);
                var e = assertThrows(RuntimeException.class, () -> backend.load(
                        new WeightSource(t.name(), t.type(), (int) t.rows(), (int) t.cols(), t.data(), md)).close(), bad.toString());
                assertTrue(e.getMessage().contains("flexq."), e.getMessage());
            }
            assertDoesNotThrow(() -> backend.load(new WeightSource(t.name(), t.type(), (int) t.rows(), (int) t.cols(), t.data(),
                    g.metadata().asMap())).close());
        }
    }
}
