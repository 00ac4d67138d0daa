package io.flexq.jlama;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.Properties;

/**
 * The Jlama version on the class path, from the jar's Maven properties
 * ({@code META-INF/maven/com.github.tjake/jlama-core/pom.properties}). The adapter knows one version's
 * internals (method shapes the agent rewrites, how linears are chunked) and refuses any other.
 */
public final class JlamaVersion {

    public static final String SUPPORTED = "0.8.4";
    static final String PROPERTIES = "META-INF/maven/com.github.tjake/jlama-core/pom.properties";

    private JlamaVersion() {
    }

    /** The version found through {@code loader}, or empty when Jlama's properties are not there. */
    public static Optional<String> find(ClassLoader loader) {
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(PROPERTIES) : loader.getResourceAsStream(PROPERTIES)) {
            if (in == null) {
                return Optional.empty();
            }
            Properties p = new Properties();
            p.load(in);
            return Optional.ofNullable(p.getProperty("version"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Throws a message naming the version found (or its absence) unless it is {@link #SUPPORTED}. */
    public static void require(ClassLoader loader) {
        Optional<String> v = find(loader);
        if (v.isEmpty()) {
            throw new IllegalStateException("flexq-jlama: no jlama-core on the class path (" + PROPERTIES + " not found); flexq-jlama works with Jlama "
                    + SUPPORTED);
        }
        if (!v.get().equals(SUPPORTED)) {
            throw new IllegalStateException("flexq-jlama: Jlama " + v.get() + " is not supported; this flexq-jlama works with Jlama "
                    + SUPPORTED + " only");
        }
    }
}
