package io.flexq.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The FQ6 golden vectors shipped in this jar ({@code /golden/}, made by {@code tools/golden/fq6_golden.py}), found
 * on the class path whether the classes are a folder (tests, the GPU bundle) or a jar ({@code flexq conformance}).
 */
public final class GoldenVectors {

    private GoldenVectors() {
    }

    /** Every golden case. */
    public static List<Fq6GoldenCase> load() {
        return Fq6GoldenCase.loadAll(folder());
    }

    /** The folder holding {@code cases.txt}. */
    public static Path folder() {
        URL url = GoldenVectors.class.getResource("/golden/cases.txt");
        if (url == null) {
            throw new IllegalStateException("golden/cases.txt is not on the class path (the conformance-tests jar ships it)");
        }
        try {
            URI uri = url.toURI();
            if (uri.getScheme().equals("jar")) {
                try {
                    FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    // opened by an earlier call: Path.of finds it
                }
            }
            return Path.of(uri).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("golden vectors at " + url + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("golden vectors in " + url + ": " + e.getMessage(), e);
        }
    }
}
