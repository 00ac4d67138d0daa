package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantization;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FQ6 files: round trip of codes and scales, alignment, metadata, and what readers without FQ6 do with them. */
class Fq6FileTest {

    static final long SEED = 77001L;
    static final ClassLoader LOADER = Fq6FileTest.class.getClassLoader();

    @TempDir
    Path dir;

    /** A synthetic model whose hidden size (200) is not a multiple of 128, so ffn_down rows have a padded group. */
    Path source() throws Exception {
        return new SyntheticLlama(128, 200, 2, 4, 2, 96, SEED).write(dir.resolve("src.gguf"), FloatTypes.F32);
    }

    Path writeFq6(Path src, Path out, Map<String, WeightQuantization> expected) throws Exception {
        TensorTypes types = BuiltinTypes.registry(LOADER);
        try (ModelFile m = GgufFile.open(src, types)) {
            List<ModelQuantizer.Layer> layers = ModelQuantizer.quantize(m, WeightQuantizer.clipping(), (a, b) -> { });
            // the quantizer run again on the same tensors: what the file must give back
            for (TensorEntry t : ModelQuantizer.linears(m)) {
                expected.put(t.name(), WeightQuantizer.clipping().quantize(t.name(), t.type(), t.data(), (int) t.rows(), (int) t.cols()));
            }
            Map<String, Object> v = new LinkedHashMap<>();
            Map<String, GgufType> ty = new LinkedHashMap<>();
            v.put(Fq6Keys.VERSION, 1L);
            ty.put(Fq6Keys.VERSION, GgufType.UINT32);
            v.put(Fq6Keys.GROUP_SIZE, 128L);
            ty.put(Fq6Keys.GROUP_SIZE, GgufType.UINT32);
            for (var l : layers) {
                v.put(ActivationMode.metadataKey(l.name()), l.name().contains("ffn_down") ? 8L : 6L);
                ty.put(ActivationMode.metadataKey(l.name()), GgufType.UINT32);
            }
            QuantizedModel q = ModelQuantizer.assemble(m, MetadataTypes.of(m), layers, types.require(Fq6Layout.TYPE_ID, "test"), v, ty, out);
            Fq6File.write(q, out);
        }
        return out;
    }

    @Test
    void roundTripGivesIdenticalCodesAndScales() throws Exception {
        Map<String, WeightQuantization> expected = new LinkedHashMap<>();
        Path out = writeFq6(source(), dir.resolve("out.fq6.gguf"), expected);
        try (Fq6File f = Fq6File.open(out, BuiltinTypes.registry(LOADER))) {
            assertEquals(14, f.fq6Tensors().size());
            for (var e : expected.entrySet()) {
                FlexqWeights want = e.getValue().weights();
                FlexqWeights got = f.weights(e.getKey());
                assertEquals(want.rows(), got.rows(), e.getKey());
                assertEquals(want.cols(), got.cols(), e.getKey());
                assertArrayEquals(want.copyCodes(), got.copyCodes(), e.getKey() + " codes (seed " + SEED + ")");
                assertArrayEquals(want.copyScalesFp16(), got.copyScalesFp16(), e.getKey() + " scales (seed " + SEED + ")");
                assertEquals(e.getKey().contains("ffn_down") ? ActivationMode.A8 : ActivationMode.A6, f.mode(e.getKey()));
            }
            GgufFile g = f.gguf();
            assertEquals(3, g.version());
            assertEquals(64, g.alignment());
            assertEquals(GgufType.UINT32, g.typeOf("llama.block_count"), "source key types are kept");
            assertEquals(200L, g.metadata().getLong("llama.feed_forward_length"));
            // every tensor's data starts 64-aligned in the file; FQ6 scales segment 16-aligned within the tensor
            long base = g.tensors().values().iterator().next().data().address() - g.dataStart();
            for (TensorEntry t : g.tensors().values()) {
                assertEquals(0, (t.data().address() - base) % 64, t.name() + " is not 64-aligned");
                if (t.type().id() == Fq6Layout.TYPE_ID) {
                    assertEquals(0, Fq6Layout.codesBytes(t.rows(), t.cols()) % 16, t.name());
                    assertEquals(t.rows() * ((t.cols() + 127) / 128) * 98, t.data().byteSize(), t.name());
                }
            }
            // the non-linear tensors are byte-identical to the source
            try (GgufFile src = GgufFile.open(dir.resolve("src.gguf"), BuiltinTypes.registry(LOADER))) {
                for (String n : List.of("token_embd.weight", "output.weight", "blk.1.ffn_norm.weight")) {
                    assertEquals(-1, src.tensor(n).data().mismatch(g.tensor(n).data()), n);
                    assertEquals(src.tensor(n).type(), g.tensor(n).type(), n);
                }
            }
        }
    }

    @Test
    void runtimeWithoutThePluginRefusesNamingTensorAndId() throws Exception {
        Path out = writeFq6(source(), dir.resolve("out.gguf"), new LinkedHashMap<>());
        TensorTypes noPlugin = new TensorTypes(BuiltinTypes.all());
        var e = assertThrows(TensorTypes.UnsupportedTensorTypeException.class, () -> GgufFile.open(out, noPlugin));
        assertTrue(e.getMessage().contains("tensor blk.0.attn_q.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown tensor type id 1030"), e.getMessage());
    }

    @Test
    void notAnFq6FileIsRefused() throws Exception {
        Path src = source();
        var e = assertThrows(io.flexq.runtime.model.ModelFormatException.class, () -> Fq6File.open(src, BuiltinTypes.registry(LOADER)));
        assertEquals(src + ": not an FQ6 file (no flexq.format_version key)", e.getMessage());
    }

    /**
     * A reader nobody here wrote, {@code @huggingface/gguf} (npm), parses the header, every metadata key and the
     * tensor table of an FQ6 file, and sees what we wrote: type ids (1030 for FQ6), shapes, offsets, and a data
     * section that starts 64-aligned.
     */
    @Test
    void externalGgufReaderParsesHeaderMetadataAndTensorTable() throws Exception {
        Path out = writeFq6(source(), dir.resolve("ext.gguf"), new LinkedHashMap<>());
        Map<String, Object> ext = GgufJs.read(out);
        @SuppressWarnings("unchecked") Map<String, Object> md = (Map<String, Object>) ext.get("metadata");
        @SuppressWarnings("unchecked") List<Map<String, Object>> infos = (List<Map<String, Object>>) ext.get("tensorInfos");
        try (GgufFile g = GgufFile.open(out, BuiltinTypes.registry(LOADER))) {
            assertEquals(3L, md.get("version"));
            for (var e : g.metadata().asMap().entrySet()) {
                assertTrue(md.containsKey(e.getKey()), "external reader lacks key " + e.getKey());
                Object mine = e.getValue();
                Object theirs = md.get(e.getKey());
                if (mine instanceof Long || mine instanceof Integer) {
                    assertEquals(((Number) mine).longValue(), Long.parseLong(theirs.toString()), e.getKey());
                } else if (mine instanceof String s) {
                    assertEquals(s, theirs, e.getKey());
                } else if (mine instanceof Float f) {
                    assertEquals(f, ((Number) theirs).floatValue(), 0f, e.getKey());
                }
            }
            assertEquals(g.tensors().size(), infos.size());
            long dataOffset = Long.parseLong(ext.get("tensorDataOffset").toString());
            assertEquals(g.dataStart(), dataOffset);
            assertEquals(0, dataOffset % 64);
            int i = 0;
            for (TensorEntry t : g.tensors().values()) {
                Map<String, Object> info = infos.get(i++);
                assertEquals(t.name(), info.get("name"));
                assertEquals((long) t.type().id(), info.get("dtype"), t.name());
                List<?> shape = (List<?>) info.get("shape");
                for (int d = 0; d < t.ne().length; d++) {
                    assertEquals(t.ne()[d], Long.parseLong(shape.get(d).toString()), t.name() + " ne[" + d + "]");
                }
                long off = Long.parseLong(info.get("offset").toString());
                assertEquals(0, off % 64, t.name());
                assertEquals(t.data().address() - g.tensors().values().iterator().next().data().address(), off, t.name());
            }
            assertTrue(infos.stream().filter(x -> x.get("dtype").equals(1030L)).count() == 14);
        }
        assertTrue(Files.size(out) > 0);
    }
}
