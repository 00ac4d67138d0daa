package io.flexq.runtime.gguf;

import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, finding 2: tensors relabelled with another type id (F32 data declared F16, Q8_0, Q4_0 or BF16) still
 * fit inside the file, so range checks alone let them load as garbage. GGUF writers (gguf-py, ggml, ours) lay the
 * data section out one way: tensors in table order, the first at offset 0, each next one at the end of the
 * previous rounded up to the alignment, zero bytes in between and after the last. A file laid out otherwise is
 * refused, naming the tensor and the offsets.
 */
class GgufTilingTest {

    private static final int F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30;
    private static final TensorTypes TYPES = BuiltinTypes.registry(GgufTilingTest.class.getClassLoader());

    @TempDir
    Path dir;

    /** Two F32 tensors of 64 elements (256 bytes each) with non-zero data, optionally relabelled. */
    private Path twoTensors(String name, int typeA, int typeB, long offsetB, int trailingPad) throws IOException {
        GgufBytes b = new GgufBytes().header(3, 2, 0)
                .tensor("a.weight", new long[] {64}, typeA, 0)
                .tensor("b.weight", new long[] {64}, typeB, offsetB)
                .padTo(32);
        ByteBuffer data = ByteBuffer.allocate(512 + trailingPad).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 128; i++) data.putFloat(0.5f + i);
        return b.raw(data.array()).writeTo(dir.resolve(name));
    }

    private static void refused(Path p, String... fragments) {
        var e = assertThrows(RuntimeException.class, () -> GgufFile.open(p, TYPES).close(), p.toString());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void wellLaidOutFilesLoad() throws IOException {
        assertDoesNotThrow(() -> GgufFile.open(twoTensors("ok.gguf", F32, F32, 256, 0), TYPES).close());
        // writers that pad the end of the data section to the alignment are fine too
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensor("v", new long[] {3}, F32, 0).padTo(32);
        ByteBuffer data = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3);
        assertDoesNotThrow(() -> GgufFile.open(b.raw(data.array()).writeTo(dir.resolve("pad.gguf")), TYPES).close());
    }

    @Test
    void relabelledFirstTensorLeavesAGap() throws IOException {
        for (int type : new int[] {F16, Q8_0, Q4_0, BF16}) {
            refused(twoTensors("first-" + type + ".gguf", type, F32, 256, 0), "a.weight", "b.weight", "gap");
        }
    }

    @Test
    void relabelledLastTensorLeavesDataAfterIt() throws IOException {
        for (int type : new int[] {F16, Q8_0, Q4_0, BF16}) {
            refused(twoTensors("last-" + type + ".gguf", F32, type, 256, 0), "b.weight");
        }
    }

    @Test
    void tensorsOutOfTableOrderOrNotAtZeroAreRefused() throws IOException {
        GgufBytes swapped = new GgufBytes().header(3, 2, 0)
                .tensor("a.weight", new long[] {8}, F32, 32)
                .tensor("b.weight", new long[] {8}, F32, 0)
                .padTo(32).raw(new byte[64]);
        refused(swapped.writeTo(dir.resolve("swapped.gguf")), "a.weight", "offset");
        GgufBytes late = new GgufBytes().header(3, 1, 0).tensor("a.weight", new long[] {8}, F32, 64).padTo(32).raw(new byte[96]);
        refused(late.writeTo(dir.resolve("late.gguf")), "a.weight", "offset");
    }

    @Test
    void extraBytesAfterTheDataSectionAreRefused() throws IOException {
        refused(twoTensors("trailing.gguf", F32, F32, 256, 40), "end");
    }

    @Test
    void theSharedGgufFilesAreLaidOutAsWritersDo() throws IOException {
        var shared = SharedData.find();
        org.junit.jupiter.api.Assumptions.assumeTrue(shared.isPresent(), "no ../shared");
        List<Path> files;
        try (var s = Files.walk(shared.get())) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).toList();
        }
        assertTrue(files.size() >= 4, files.toString());
        for (Path p : files) {
            assertDoesNotThrow(() -> GgufFile.open(p, TYPES).close(), p.toString());
        }
    }
}
