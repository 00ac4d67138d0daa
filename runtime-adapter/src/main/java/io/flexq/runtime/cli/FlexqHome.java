package io.flexq.runtime.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The project folder holding the bundled default model ({@code models/stories260K.bin} + {@code models/tok512.bin}):
 * system property {@code flexq.home} (the launcher sets it), else the first folder above this class's jar or class
 * directory that holds the model, else {@code flexq.root} (set by the test build).
 */
public final class FlexqHome {

    public static final String DEFAULT_MODEL = "models/stories260K.bin";
    public static final String DEFAULT_TOKENIZER = "models/tok512.bin";

    private FlexqHome() {
    }

    public static Path find() {
        String home = System.getProperty("flexq.home");
        if (home != null) {
            Path p = Path.of(home);
            if (!Files.isRegularFile(p.resolve(DEFAULT_MODEL))) {
                throw new CommandException("flexq.home=" + home + " does not hold " + DEFAULT_MODEL + "; pass --model");
            }
            return p;
        }
        return fromCodeLocation()
                .or(() -> Optional.ofNullable(System.getProperty("flexq.root")).map(Path::of).filter(FlexqHome::holdsModel))
                .orElseThrow(() -> new CommandException("cannot find the bundled model " + DEFAULT_MODEL
                        + " above " + codeLocation().map(Path::toString).orElse("the class path") + "; pass --model and --tokenizer, or set -Dflexq.home"));
    }

    private static Optional<Path> fromCodeLocation() {
        for (Path p = codeLocation().orElse(null); p != null; p = p.getParent()) {
            if (holdsModel(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> codeLocation() {
        try {
            var source = FlexqHome.class.getProtectionDomain().getCodeSource();
            return source == null ? Optional.empty() : Optional.of(Path.of(source.getLocation().toURI()).toAbsolutePath());
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static boolean holdsModel(Path dir) {
        return Files.isRegularFile(dir.resolve(DEFAULT_MODEL));
    }
}
