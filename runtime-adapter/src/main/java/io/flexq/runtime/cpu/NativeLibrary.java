package io.flexq.runtime.cpu;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

/**
 * A native kernel library carried inside a jar as {@code /native/linux-x86_64/NAME.so} (built by
 * {@code tools/build-native.sh}), opened through the FFM API, or the one-line reason it is not: another OS or
 * architecture, a jar built without gcc, {@code -Dflexq.cpu.native=false}, or a load error. Callers keep their
 * Vector API kernels for every case where {@link #lookup()} is empty.
 */
public record NativeLibrary(Optional<SymbolLookup> lookup, String why) {

    /** System property that turns every native CPU kernel off ({@code false}), for A/B runs and tests. */
    public static final String PROPERTY = "flexq.cpu.native";

    /** Libraries opened so far, by name: each is copied out of the jar and mapped once per process. */
    private static final java.util.Map<String, NativeLibrary> OPENED = new java.util.concurrent.ConcurrentHashMap<>();

    /** Opens {@code /native/linux-x86_64/<name>.so} from {@code anchor}'s class path (once per name); never throws. */
    public static NativeLibrary open(String name, Class<?> anchor) {
        return OPENED.computeIfAbsent(name, n -> load(n, anchor));
    }

    private static NativeLibrary load(String name, Class<?> anchor) {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"))) {
            return new NativeLibrary(Optional.empty(), "turned off (-D" + PROPERTY + "=false)");
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new NativeLibrary(Optional.empty(), "no native kernels for " + os + "/" + arch);
        }
        String resource = "/native/linux-x86_64/" + name + ".so";
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                return new NativeLibrary(Optional.empty(), resource + " is not on the class path (built without gcc?)");
            }
            Path file = Files.createTempFile(name, ".so");
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                return new NativeLibrary(Optional.of(SymbolLookup.libraryLookup(file, Arena.global())), "loaded " + resource);
            } finally {
                Files.deleteIfExists(file); // the mapping outlives the file (Linux)
            }
        } catch (Throwable e) {
            return new NativeLibrary(Optional.empty(), "could not load " + resource + ": " + e);
        }
    }
}
