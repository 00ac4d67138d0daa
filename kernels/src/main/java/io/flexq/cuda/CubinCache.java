package io.flexq.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * One entry of the cache of NVRTC-compiled cubins: {@code DIR/flexq-KEY.cubin}, KEY the SHA-256 of everything the
 * cubin depends on (kernel source, every NVRTC option, target arch, NVRTC version; each length-prefixed so no two
 * different inputs share a key). The file is {@code "FQCUBIN1"}, the cubin's SHA-256, then the cubin; a read checks
 * the magic and the hash, so a truncated, corrupted or substituted entry is a miss that is recompiled, never code
 * loaded onto the GPU (issue 11: cached cubins were loaded without any check).
 */
final class CubinCache {

    private static final byte[] MAGIC = "FQCUBIN1".getBytes(StandardCharsets.US_ASCII);
    private static final int HASH = 32;

    private final Path file;
    private final String key;

    CubinCache(Path dir, byte[] source, List<String> options, String arch, String nvrtcVersion) {
        MessageDigest d = sha256();
        field(d, source);
        field(d, arch.getBytes(StandardCharsets.UTF_8));
        field(d, nvrtcVersion.getBytes(StandardCharsets.UTF_8));
        for (String o : options) {
            field(d, o.getBytes(StandardCharsets.UTF_8));
        }
        this.key = HexFormat.of().formatHex(d.digest()).substring(0, 32) + "-" + arch;
        this.file = dir.resolve("flexq-" + key + ".cubin");
    }

    String key() {
        return key;
    }

    Path file() {
        return file;
    }

    /** The cached cubin if the entry exists and its hash checks out; empty otherwise (and a bad entry is removed). */
    Optional<byte[]> read() {
        byte[] all;
        try {
            if (!Files.isRegularFile(file)) {
                return Optional.empty();
            }
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            return Optional.empty(); // unreadable: recompiled
        }
        if (all.length > MAGIC.length + HASH && Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            byte[] cubin = Arrays.copyOfRange(all, MAGIC.length + HASH, all.length);
            if (Arrays.equals(sha256().digest(cubin), 0, HASH, all, MAGIC.length, MAGIC.length + HASH)) {
                return Optional.of(cubin);
            }
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the write after the recompile replaces it anyway
        }
        return Optional.empty();
    }

    /** Stores a cubin (atomically); failures are ignored: the cache only saves a recompile. */
    void write(byte[] cubin) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "flexq", ".tmp");
            try {
                Files.write(tmp, ByteBuffer.allocate(MAGIC.length + HASH + cubin.length)
                        .put(MAGIC).put(sha256().digest(cubin)).put(cubin).array());
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // a read-only home only costs a recompile next time
        }
    }

    private static void field(MessageDigest d, byte[] bytes) {
        d.update(ByteBuffer.allocate(8).putLong(bytes.length).array());
        d.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
