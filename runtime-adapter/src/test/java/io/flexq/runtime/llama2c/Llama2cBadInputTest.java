package io.flexq.runtime.llama2c;

import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broken llama2.c checkpoints: each is a ModelFormatException naming the file and the fault. */
@Timeout(60)
class Llama2cBadInputTest {

    @TempDir
    Path dir;

    static ModelFormatException refused(Path p, String... fragments) {
        var e = assertThrows(ModelFormatException.class, () -> Llama2cFile.open(p, Llama2cFileTest.TYPES).close(), p.toString());
        String msg = e.getMessage();
        assertTrue(msg.contains(p.toString()), "message should name the file: " + msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), "message should contain '" + f + "': " + msg);
        }
        return e;
    }

    private Path withHeader(String name, int... header) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * header.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : header) b.putInt(h);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void truncatedStories260KIsReportedAtEveryCutPoint() throws IOException {
        byte[] full = Files.readAllBytes(SharedData.require("models/stories260K.bin"));
        for (int cut : new int[]{0, 3, 4, 27, 28, 29, 1000, 131_100, full.length / 2, full.length - 4, full.length - 1}) {
            Path p = Files.write(dir.resolve("cut" + cut + ".bin"), Arrays.copyOf(full, cut));
            var e = refused(p);
            assertTrue(e.getMessage().contains("truncated"), "cut " + cut + ": " + e.getMessage());
        }
    }

    @Test
    void truncationsOfASmallCheckpointAreRefused() throws IOException {
        for (int version : new int[]{0, 1}) {
            Llama2cFileTest.Written w = Llama2cFileTest.write(dir.resolve("small" + version + ".bin"), version, 8, 12, 1, 2, 1, 5, 3, false, 21);
            byte[] full = Files.readAllBytes(w.path());
            assertDoesNotThrow(() -> Llama2cFile.open(w.path(), Llama2cFileTest.TYPES).close());
            // every cut through the header, then every 7th byte through the floats, and the last byte
            List<Integer> cuts = new ArrayList<>();
            for (int cut = 0; cut < full.length; cut += cut < 300 ? 1 : 7) cuts.add(cut);
            cuts.add(full.length - 1);
            for (int cut : cuts) {
                refused(Files.write(dir.resolve("v" + version + "cut" + cut + ".bin"), Arrays.copyOf(full, cut)));
            }
        }
    }

    @Test
    void sizeInconsistentWithTheHeaderIsRefused() throws IOException {
        byte[] full = Files.readAllBytes(SharedData.require("models/stories260K.bin"));
        Path longer = Files.write(dir.resolve("longer.bin"), Arrays.copyOf(full, full.length + 4));
        refused(longer, "1056544 bytes", "implies 1056540", "trailing data");
        // flip the classifier to "unshared": the header now wants 512 x 64 more floats
        ByteBuffer b = ByteBuffer.wrap(full.clone()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(20, -512);
        refused(Files.write(dir.resolve("unshared.bin"), b.array()), "implies 1187612", "truncated");
    }

    @Test
    void negativeZeroAndInconsistentDimsAreNamed() throws IOException {
        refused(withHeader("negdim.bin", -64, 172, 5, 8, 4, 512, 512), "dim = -64");
        refused(withHeader("zerolayers.bin", 64, 172, 0, 8, 4, 512, 512), "n_layers = 0");
        refused(withHeader("zerovocab.bin", 64, 172, 5, 8, 4, 0, 512), "vocab_size = 0");
        refused(withHeader("minvocab.bin", 64, 172, 5, 8, 4, Integer.MIN_VALUE, 512), "vocab_size = -2147483648");
        refused(withHeader("negseq.bin", 64, 172, 5, 8, 4, 512, -1), "seq_len = -1");
        refused(withHeader("heads.bin", 64, 172, 5, 7, 7, 512, 512), "not a multiple of n_heads 7");
        refused(withHeader("kv.bin", 64, 172, 5, 8, 3, 512, 512), "not a multiple of n_kv_heads 3");
        refused(withHeader("kvbig.bin", 64, 172, 5, 8, 16, 512, 512), "n_kv_heads 16");
        refused(withHeader("odd.bin", 24, 172, 5, 8, 4, 512, 512), "head size 3 is odd");
    }

    @Test
    void absurdDimsAreRefusedWithoutAllocating() throws IOException {
        int big = Integer.MAX_VALUE - 1;   // even, so every per-dim check passes and only the size can object
        refused(withHeader("huge.bin", 1 << 30, big, big, 2, 2, big, big), "2^63", "corrupt");
        refused(withHeader("large.bin", 4096, 11008, 32, 32, 32, 32000, 4096), "implies", "truncated");
    }

    @Test
    void unsupportedExportVersionsAreNamed() throws IOException {
        refused(withHeader("v2.bin", 0x616b3432, 2, 64, 172, 5, 8, 4, 512, 512), "export version 2");
        refused(Files.write(dir.resolve("v1short.bin"), new byte[]{0x32, 0x34, 0x6b, 0x61, 1, 0, 0, 0}), "truncated", "256");
    }
}
