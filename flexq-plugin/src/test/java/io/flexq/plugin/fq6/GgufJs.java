package io.flexq.plugin.fq6;

import io.flexq.runtime.json.Json;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Test harness around an external GGUF reader: the npm package {@code @huggingface/gguf}, installed by the
 * test itself into {@code target/npm} (once per build directory) and run through a small node script.
 * Skips the calling test, with the reason printed, when node or npm is not on the PATH; fails when they are
 * there but the install does not work (CI has npm and the registry).
 */
final class GgufJs {

    static final String PACKAGE = "@huggingface/gguf@0.4.6";

    private static final Path DIR = Path.of("target", "npm").toAbsolutePath();

    private GgufJs() {
    }

    /** Installs the reader if needed; skips the test when node or npm is missing. */
    static synchronized void require() throws IOException, InterruptedException {
        for (String tool : List.of("node", "npm")) {
            if (!onPath(tool)) {
                String reason = tool + " not found on PATH: the external GGUF reader test (" + PACKAGE + ") is skipped";
                System.err.println("SKIPPED: " + reason);
                Assumptions.abort(reason);
            }
        }
        Path installed = DIR.resolve("node_modules/@huggingface/gguf/package.json");
        if (!Files.exists(installed)) {
            Files.createDirectories(DIR);
            Path log = DIR.resolve("npm-install.log");
            Process p = new ProcessBuilder("npm", "install", "--prefix", DIR.toString(), "--no-audit", "--no-fund",
                    "--no-save", PACKAGE).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("npm install " + PACKAGE + " took over 300 s; log: " + log);
            }
            if (p.exitValue() != 0 || !Files.exists(installed)) {
                throw new AssertionError("npm install " + PACKAGE + " failed (exit " + p.exitValue() + "):\n" + Files.readString(log));
            }
        }
        try (InputStream script = GgufJs.class.getResourceAsStream("/gguf-js/read-gguf.mjs")) {
            Files.copy(script, DIR.resolve("read-gguf.mjs"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The external reader's view of {@code file}: keys metadata, tensorInfos (name, n_dims, shape, dtype, offset), tensorDataOffset. */
    static Map<String, Object> read(Path file) throws IOException, InterruptedException {
        require();
        Path out = Files.createTempFile(DIR, "gguf-js", ".json");
        Path err = Files.createTempFile(DIR, "gguf-js", ".err");
        try {
            Process p = new ProcessBuilder("node", DIR.resolve("read-gguf.mjs").toString(), file.toAbsolutePath().toString())
                    .directory(DIR.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("node read-gguf.mjs " + file + " took over 120 s");
            }
            if (p.exitValue() != 0) {
                throw new ExternalReaderRefused(file + ": @huggingface/gguf refused the file (exit " + p.exitValue() + "): "
                        + Files.readString(err).strip());
            }
            return Json.parseObject(Files.readString(out), "output of read-gguf.mjs for " + file);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static final class ExternalReaderRefused extends AssertionError {
        ExternalReaderRefused(String message) {
            super(message);
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
