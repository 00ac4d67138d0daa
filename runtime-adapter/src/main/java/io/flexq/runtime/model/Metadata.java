package io.flexq.runtime.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Model metadata as GGUF key/values (every loader speaks GGUF keys: "llama.embedding_length",
 * "tokenizer.ggml.tokens", ...). Values are: Integer (u8, i8, u16, i16, i32), Long (u32, i64, u64),
 * Float, Double, Boolean, String, and arrays: int[] (u8..i32), long[] (u32, i64, u64), float[],
 * double[], boolean[], String[], Object[] (arrays of arrays).
 * Typed getters fail with a message naming the file and the key.
 */
public final class Metadata {

    private final String source;
    private final Map<String, Object> values;

    public Metadata(String source, Map<String, Object> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Where this metadata came from, for messages (usually a file path). */
    public String source() {
        return source;
    }

    public Map<String, Object> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public Optional<Object> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public Object require(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new ModelFormatException(source + ": missing metadata key '" + key + "'");
        }
        return v;
    }

    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw wrongType(key, v, "an integer");
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": metadata key '" + key + "' = " + v + " does not fit in an int");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public double getDouble(String key) {
        Object v = require(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw wrongType(key, v, "a number");
    }

    public double getDouble(String key, double defaultValue) {
        return has(key) ? getDouble(key) : defaultValue;
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, v, "a string");
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        Object v = values.get(key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, v, "a bool");
    }

    public <T> T getArray(String key, Class<T> arrayType) {
        Object v = require(key);
        if (arrayType.isInstance(v)) {
            return arrayType.cast(v);
        }
        throw wrongType(key, v, arrayType.getSimpleName());
    }

    private ModelFormatException wrongType(String key, Object v, String expected) {
        return new ModelFormatException(source + ": metadata key '" + key + "' should be " + expected
                + " but is " + v.getClass().getSimpleName());
    }
}
