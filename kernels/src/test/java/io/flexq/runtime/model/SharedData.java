package io.flexq.runtime.model;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test-only: finds the project's shared, read-only data folder ({@code ../shared} beside the checkout: models/, data/).
 * Looked up in order: system property {@code flexq.shared}, environment variable {@code FLEXQ_SHARED},
 * {@code <flexq.root>/../shared} (the build passes flexq.root = repository root), {@code ./../shared}, {@code ../../shared}.
 *
 * <p>Production code never looks for {@code ../shared} (a folder that exists only beside a development checkout);
 * the modules whose tests read shared files (runtime-adapter, flexq-plugin, conformance-tests) each carry this
 * same file in their test sources, so no test jar has to be published.
 */
public final class SharedData {

    private SharedData() {
    }

    /** The shared folder, or empty if none of the places holds one. */
    public static java.util.Optional<Path> find() {
        String prop = System.getProperty("flexq.shared");
        if (prop != null) return existing(Path.of(prop));
        String env = System.getenv("FLEXQ_SHARED");
        if (env != null) return existing(Path.of(env));
        String root = System.getProperty("flexq.root");
        if (root != null) {
            var p = existing(Path.of(root).resolve("../shared"));
            if (p.isPresent()) return p;
        }
        var p = existing(Path.of("../shared"));
        return p.isPresent() ? p : existing(Path.of("../../shared"));
    }

    /** A file under the shared folder; throws naming the path and the lookup order when missing. */
    public static Path require(String relative) {
        Path base = find().orElseThrow(() -> new IllegalStateException(
                "shared data folder not found: set -Dflexq.shared=DIR or FLEXQ_SHARED=DIR (looked for ../shared beside the checkout)"));
        Path p = base.resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("shared file missing: " + p.toAbsolutePath().normalize());
        }
        return p;
    }

    private static java.util.Optional<Path> existing(Path p) {
        return Files.isDirectory(p) ? java.util.Optional.of(p.toAbsolutePath().normalize()) : java.util.Optional.empty();
    }
}
