package io.flexq.runtime.gguf;

import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broken and hostile GGUF files: each must end in a ModelFormatException (or, for an unknown tensor
 * type, the registry's UnsupportedTensorTypeException) whose message names the file and the fault;
 * never another exception, a crash, a hang or an OutOfMemoryError (the test JVM has -Xmx3g, and the
 * hostile counts below would need terabytes if they were believed).
 */
@Timeout(60)
class GgufBadInputTest {

    /** A type with 4-element blocks, to check shapes that do not fill whole blocks. */
    static final TensorType BLOCK4 = new TensorType() {
        public int id() { return 1031; }
        public String name() { return "BLOCK4"; }
        public int blockSize() { return 4; }
        public long rowBytes(long cols) {
            if (cols % 4 != 0) throw new IllegalArgumentException(cols + " columns are not a whole number of 4-element blocks");
            return Math.multiplyExact(cols / 4, 2L);
        }
        public void dequantizeRow(MemorySegment data, long row, int cols, float[] dst, int off) {
            throw new UnsupportedOperationException();
        }
    };

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16, BLOCK4));

    @TempDir
    Path dir;

    private Path file(String name, GgufBytes b) throws IOException {
        return b.writeTo(dir.resolve(name));
    }

    /** Opening must fail with a ModelFormatException naming the file and containing every fragment. */
    static ModelFormatException refused(Path p, String... fragments) {
        var e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p, TYPES).close(), p.toString());
        String msg = e.getMessage();
        assertTrue(msg.contains(p.toString()), "message should name the file: " + msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), "message should contain '" + f + "': " + msg);
        }
        return e;
    }

    /** A valid file with metadata of several kinds and two tensors, the last ending exactly at EOF. */
    static byte[] validSmallFile() {
        GgufBytes b = new GgufBytes().header(3, 2, 4);
        b.key("general.architecture", 8).str("llama");
        b.key("llama.block_count", 4).u32(1);
        b.key("tokenizer.ggml.tokens", 9).u32(8).u64(3).str("<unk>").str("<s>").str("</s>");
        b.key("tokenizer.ggml.scores", 9).u32(6).u64(3).f32(0).f32(-1).f32(-2);
        b.tensor("a.weight", new long[]{4, 2}, 0, 0);
        b.tensor("b.weight", new long[]{8}, 1, 32);
        b.padTo(32);
        b.raw(new byte[32]).raw(new byte[16]);
        return b.bytes();
    }

    @Test
    void everyTruncationOfASmallFileIsReportedAsTruncation() throws IOException {
        byte[] full = validSmallFile();
        Path ok = Files.write(dir.resolve("full.gguf"), full);
        assertDoesNotThrow(() -> GgufFile.open(ok, TYPES).close());
        for (int cut = 0; cut < full.length; cut++) {
            Path p = Files.write(dir.resolve("cut" + cut + ".gguf"), Arrays.copyOf(full, cut));
            var e = refused(p);
            String m = e.getMessage();
            assertTrue(m.contains("truncated") || m.contains("past the end") || m.contains("not a GGUF")
                    || m.contains("more than"), "cut " + cut + ": " + m);
        }
    }

    @Test
    void truncatedCopiesOfStories260KAreRefused() throws IOException {
        byte[] full = Files.readAllBytes(SharedData.require("models/stories260K-f32.gguf"));
        long dataStart;
        try (GgufFile g = GgufFile.open(SharedData.require("models/stories260K-f32.gguf"), TYPES)) {
            dataStart = g.dataStart();
        }
        int[] cuts = {0, 3, 4, 7, 8, 16, 23, 24, 100, 1000, 5000, 20000, (int) dataStart - 1, (int) dataStart,
                (int) dataStart + 1, full.length / 2, full.length - 4, full.length - 1};
        for (int cut : cuts) {
            Path p = Files.write(dir.resolve("s" + cut + ".gguf"), Arrays.copyOf(full, cut));
            refused(p);
        }
    }

    @Test
    void wrongMagicAndUnsupportedVersionsAreNamed() throws IOException {
        refused(file("magic.gguf", new GgufBytes().u32(0x58554747).u32(3).u64(0).u64(0)), "not a GGUF file", "GGUX");
        refused(Files.copy(SharedData.require("models/stories260K.bin"), dir.resolve("llama2c.gguf")), "not a GGUF file");
        refused(file("v1.gguf", new GgufBytes().header(1, 0, 0)), "version 1");
        refused(file("v4.gguf", new GgufBytes().header(4, 0, 0)), "version 4");
        refused(file("be.gguf", new GgufBytes().header(0x03000000, 0, 0)), "big-endian");
        refused(file("tiny.gguf", new GgufBytes().u8('G').u8('G')), "only 2 bytes");
    }

    @Test
    void tensorOffsetsPastTheEndAreRefusedNamingTheTensor() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensor("blk.0.attn_q.weight", new long[]{4, 4}, 0, 1L << 40);
        b.padTo(32).raw(new byte[64]);
        refused(file("offset.gguf", b), "blk.0.attn_q.weight", "past the end");
        // the largest aligned offset: start would overflow a signed 64-bit sum
        GgufBytes c = new GgufBytes().header(3, 1, 0).tensor("t", new long[]{4}, 0, Long.MAX_VALUE & -32L);
        c.padTo(32).raw(new byte[16]);
        refused(file("offset-max.gguf", c), "'t'", "past the end");
        // data that starts fine but runs past the end
        GgufBytes d = new GgufBytes().header(3, 1, 0).tensor("short.weight", new long[]{64}, 0, 0);
        d.padTo(32).raw(new byte[100]);
        refused(file("short.gguf", d), "short.weight", "256 bytes", "past the end");
    }

    @Test
    void sizesThatOverflowAreRefusedNamingTheTensor() throws IOException {
        refused(file("ov1.gguf", new GgufBytes().header(3, 1, 0).tensor("big.weight", new long[]{1L << 62, 4}, 0, 0).padTo(32)),
                "big.weight", "2^63");
        refused(file("ov2.gguf", new GgufBytes().header(3, 1, 0).tensor("rows.weight", new long[]{4, 1L << 40, 1L << 40}, 0, 0).padTo(32)),
                "rows.weight", "2^63");
        refused(file("neg.gguf", new GgufBytes().header(3, 1, 0).tensor("neg.weight", new long[]{-1L, 4}, 0, 0).padTo(32)),
                "neg.weight", "ne[0]", "18446744073709551615");
    }

    @Test
    void hostileStringAndArrayCountsAreRefusedBeforeAllocating() throws IOException {
        // key string length 2^62
        refused(file("keylen.gguf", new GgufBytes().header(3, 0, 1).u64(1L << 62).raw(new byte[64])), "metadata key #0 length");
        // string value length 2^63 - 1 and 2^64 - 1
        refused(file("strlen.gguf", new GgufBytes().header(3, 0, 1).key("k", 8).u64(Long.MAX_VALUE).raw(new byte[64])), "'k'", "length");
        refused(file("strlen2.gguf", new GgufBytes().header(3, 0, 1).key("k", 8).u64(-1L).raw(new byte[64])), "18446744073709551615");
        // arrays of u8, of strings, of arrays, claiming far more elements than the file holds
        refused(file("arr8.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(0).u64(1L << 40).raw(new byte[64])), "'a'", "array count");
        refused(file("arrs.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(8).u64(1L << 60).raw(new byte[64])), "'a'", "array count");
        refused(file("arra.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(9).u64(Integer.MAX_VALUE).raw(new byte[64])), "array count");
        // counts that fit in the file size but not in a Java array's bound are refused as well
        refused(file("arr64.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(12).u64(1L << 33).raw(new byte[64])), "array count");
        // tensor and key/value counts
        refused(file("tcount.gguf", new GgufBytes().header(3, 1L << 60, 0).raw(new byte[64])), "tensor count");
        refused(file("kvcount.gguf", new GgufBytes().header(3, 0, -1L).raw(new byte[64])), "key/value count");
        // a string array whose count could fit but whose strings run out: named down to the element
        refused(file("strs.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(8).u64(3).str("x").str("y").u64(100).raw(new byte[10])),
                "'a'[2] length", "100");
        refused(file("strs2.gguf", new GgufBytes().header(3, 0, 1).key("a", 9).u32(8).u64(3).str("x").str("y")), "'a'", "array count");
    }

    @Test
    void deeplyNestedArraysAreRefused() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).key("deep", 9);
        for (int i = 0; i < 20; i++) b.u32(9).u64(1);
        b.u32(0).u64(0);
        refused(file("deep.gguf", b), "'deep'", "nests arrays");
    }

    @Test
    void unknownTypeIdsNameTheTensorOrKeyAndTheId() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 1, 0).tensor("blk.3.ffn_down.weight", new long[]{32, 4}, 9999, 0).padTo(32);
        Path p = file("type.gguf", b);
        var e = assertThrows(TensorTypes.UnsupportedTensorTypeException.class, () -> GgufFile.open(p, TYPES).close());
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("tensor blk.3.ffn_down.weight")
                && e.getMessage().contains("id 9999"), e.getMessage());
        refused(file("vtype.gguf", new GgufBytes().header(3, 0, 1).key("general.x", 13).u32(0)), "general.x", "value type id 13");
        refused(file("etype.gguf", new GgufBytes().header(3, 0, 1).key("general.y", 9).u32(77).u64(0)), "general.y", "77");
    }

    @Test
    void misalignedOffsetsAndBadAlignmentsAreRefused() throws IOException {
        GgufBytes mis = new GgufBytes().header(3, 2, 0)
                .tensor("a", new long[]{1}, 0, 0).tensor("b.weight", new long[]{1}, 0, 4).padTo(32).raw(new byte[64]);
        refused(file("misaligned.gguf", mis), "b.weight", "offset 4", "alignment 32");
        GgufBytes mis64 = new GgufBytes().header(3, 1, 1).key("general.alignment", 4).u32(64)
                .tensor("c.weight", new long[]{1}, 0, 32).padTo(64).raw(new byte[128]);
        refused(file("misaligned64.gguf", mis64), "c.weight", "offset 32", "alignment 64");
        for (long a : new long[]{0, 3, 48, 1L << 31}) {
            refused(file("align" + a + ".gguf", new GgufBytes().header(3, 0, 1).key("general.alignment", 4).u32(a)),
                    "general.alignment = " + a, "power of two");
        }
        refused(file("alignstr.gguf", new GgufBytes().header(3, 0, 1).key("general.alignment", 8).str("32")),
                "general.alignment", "String");
    }

    @Test
    void duplicatesBadDimsOverlapsAndPartialBlocksAreRefused() throws IOException {
        refused(file("dupkey.gguf", new GgufBytes().header(3, 0, 2).key("k", 5).u32(1).key("k", 5).u32(2)), "'k'", "twice");
        refused(file("duptensor.gguf", new GgufBytes().header(3, 2, 0)
                .tensor("t", new long[]{8}, 0, 0).tensor("t", new long[]{8}, 0, 32).padTo(32).raw(new byte[64])), "'t'", "twice");
        refused(file("dims5.gguf", new GgufBytes().header(3, 1, 0).tensor("t5", new long[]{1, 1, 1, 1, 1}, 0, 0).padTo(32).raw(new byte[32])),
                "t5", "n_dims = 5");
        refused(file("dims0.gguf", new GgufBytes().header(3, 1, 0).tensor("t0", new long[]{}, 0, 0).padTo(32).raw(new byte[32])),
                "t0", "n_dims = 0");
        refused(file("overlap.gguf", new GgufBytes().header(3, 2, 0)
                .tensor("x", new long[]{16}, 0, 0).tensor("y", new long[]{8}, 0, 32).padTo(32).raw(new byte[128])), "overlap");
        refused(file("block.gguf", new GgufBytes().header(3, 1, 0).tensor("q.weight", new long[]{6, 2}, 1031, 0).padTo(32).raw(new byte[32])),
                "q.weight", "BLOCK4", "not a valid shape");
    }
}
