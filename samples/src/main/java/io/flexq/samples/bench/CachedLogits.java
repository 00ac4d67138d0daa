package io.flexq.samples.bench;

import io.flexq.plugin.eval.LogitModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * A reference model whose logits are kept on disk, one file per window (keyed by the window's tokens), so that files
 * quantized at different times are scored against exactly the same reference numbers without running the reference
 * again. The values are the fp32 logits the model produced, stored bit for bit.
 */
final class CachedLogits implements LogitModel {

    private final LogitModel inner;
    private final Path dir;

    CachedLogits(LogitModel inner, Path dir) throws IOException {
        this.inner = inner;
        this.dir = Files.createDirectories(dir);
    }

    @Override
    public int vocabSize() {
        return inner.vocabSize();
    }

    @Override
    public void forward(int[] tokens, int from, LogitSink sink) {
        int vocab = inner.vocabSize();
        Path file = dir.resolve(key(tokens, from) + ".f32");
        int rows = tokens.length - from;
        try {
            if (!Files.exists(file)) {
                ByteBuffer all = ByteBuffer.allocate(rows * vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
                inner.forward(tokens, from, (p, logits) -> {
                    all.position((p - from) * vocab * 4);
                    all.asFloatBuffer().put(logits, 0, vocab);
                });
                Path tmp = dir.resolve(file.getFileName() + ".tmp");
                Files.write(tmp, all.array());
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            float[] row = new float[vocab];
            for (int p = from; p < tokens.length; p++) {
                b.position((p - from) * vocab * 4);
                b.asFloatBuffer().get(row);
                sink.accept(p, row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String key(int[] tokens, int from) {
        CRC32 crc = new CRC32();
        ByteBuffer b = ByteBuffer.allocate(tokens.length * 4);
        b.asIntBuffer().put(tokens);
        crc.update(b.array());
        return tokens.length + "-" + from + "-" + Long.toHexString(crc.getValue()) + "-" + Integer.toHexString(Arrays.hashCode(tokens));
    }
}
