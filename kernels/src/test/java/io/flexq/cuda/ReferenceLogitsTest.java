package io.flexq.cuda;

import io.flexq.plugin.eval.LogitModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference-logits file (no GPU): what is written is read back bit for bit; damage is refused with the file named. */
class ReferenceLogitsTest {

    /** Logits that depend on the window's tokens and the position, so a misplaced row shows. */
    private static final LogitModel FAKE = new LogitModel() {
        @Override
        public int vocabSize() {
            return 7;
        }

        @Override
        public void forward(int[] tokens, int from, LogitSink sink) {
            float[] row = new float[7];
            for (int p = from; p < tokens.length; p++) {
                for (int v = 0; v < 7; v++) {
                    row[v] = tokens[p] * 0.25f + p - v * 1e-3f + Float.MIN_VALUE * v;
                }
                sink.accept(p, row);  // reused array, as LogitModel allows
            }
        }
    };

    @Test
    void writtenLogitsReadBackBitForBit(@TempDir Path dir) throws IOException {
        int[] tokens = new int[3 * 16 + 5];
        Arrays.setAll(tokens, i -> (i * 37) % 7);
        ReferenceLogits ref = ReferenceLogits.compute(FAKE, tokens, 16, 3, 1);
        assertEquals(3, ref.windows().size());
        Path f = dir.resolve("ref.bin");
        ref.write(f);
        ReferenceLogits back = ReferenceLogits.read(f);
        assertEquals(ref.vocab(), back.vocab());
        assertEquals(8, back.first());
        assertEquals(7, back.scored());
        for (int w = 0; w < 3; w++) {
            assertArrayEquals(ref.windows().get(w).input(), back.windows().get(w).input());
            assertArrayEquals(ref.windows().get(w).targets(), back.windows().get(w).targets());
            assertEquals(tokens[w * 16 + 8 + 1], back.windows().get(w).targets()[0]);
            for (int j = 0; j < 7; j++) {
                float[] a = ref.windows().get(w).logits()[j], b = back.windows().get(w).logits()[j];
                for (int v = 0; v < 7; v++) {
                    assertEquals(Float.floatToRawIntBits(a[v]), Float.floatToRawIntBits(b[v]));
                }
                assertEquals(back.windows().get(w).input()[8 + j] * 0.25f + 8 + j, b[0]);  // the row of its own position
            }
        }
    }

    @Test
    void aTruncatedOrForeignFileIsRefusedWithItsName(@TempDir Path dir) throws IOException {
        int[] tokens = new int[40];
        Path f = dir.resolve("ref.bin");
        ReferenceLogits.compute(FAKE, tokens, 16, 2, 1).write(f);
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 3));
        IOException e = assertThrows(IOException.class, () -> ReferenceLogits.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("bytes"), e.getMessage());
        Path g = dir.resolve("other.bin");
        Files.write(g, new byte[64]);
        IOException e2 = assertThrows(IOException.class, () -> ReferenceLogits.read(g));
        assertTrue(e2.getMessage().contains(g.toString()) && e2.getMessage().contains("magic"), e2.getMessage());
    }
}
