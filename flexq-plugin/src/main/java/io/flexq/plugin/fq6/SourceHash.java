package io.flexq.plugin.fq6;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * SHA-256 of a model's source, recorded as {@code flexq.source_sha256} so an FQ6 file says exactly what it was
 * made from. A file hashes as its bytes (the same value as {@code sha256sum}); a directory (safetensors) as the
 * concatenation, in name order, of each regular file's name, a NUL, and its bytes.
 */
public final class SourceHash {

    private SourceHash() {
    }

    public static String of(Path source) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        if (Files.isDirectory(source)) {
            List<Path> files;
            try (Stream<Path> s = Files.list(source)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                feed(md, f);
            }
        } else {
            feed(md, source);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void feed(MessageDigest md, Path f) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
    }
}
