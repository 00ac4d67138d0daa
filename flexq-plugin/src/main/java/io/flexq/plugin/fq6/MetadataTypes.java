package io.flexq.plugin.fq6;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.ModelFile;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The GGUF type to write each metadata key with. A GGUF source keeps the types it was stored with; keys that
 * other loaders (llama2.c, safetensors) made up get the types llama.cpp's converters use: counts and sizes
 * uint32, floats float32, token types int32.
 */
public final class MetadataTypes {

    private MetadataTypes() {
    }

    public static Map<String, GgufType> of(ModelFile source) {
        Map<String, GgufType> types = new LinkedHashMap<>();
        for (var e : source.metadata().asMap().entrySet()) {
            types.put(e.getKey(), source instanceof GgufFile g ? g.typeOf(e.getKey())
                    : source instanceof QuantizedModel q && q.types().containsKey(e.getKey()) ? q.types().get(e.getKey())
                    : infer(e.getKey(), e.getValue()));
        }
        return types;
    }

    /** The conventional GGUF type for a Java metadata value (see {@link io.flexq.runtime.model.Metadata}). */
    public static GgufType infer(String key, Object value) {
        return switch (value) {
            case Integer i -> GgufType.INT32;
            case Long l -> l >= 0 && l <= 0xFFFF_FFFFL ? GgufType.UINT32 : GgufType.INT64;
            case Float f -> GgufType.FLOAT32;
            case Double d -> GgufType.FLOAT64;
            case Boolean b -> GgufType.BOOL;
            case String s -> GgufType.STRING;
            case int[] a -> GgufType.INT32;
            case long[] a -> fitsUint32(a) ? GgufType.UINT32 : GgufType.INT64;
            case float[] a -> GgufType.FLOAT32;
            case double[] a -> GgufType.FLOAT64;
            case boolean[] a -> GgufType.BOOL;
            case String[] a -> GgufType.STRING;
            default -> throw new IllegalArgumentException("metadata key '" + key + "': no GGUF type for " + value.getClass().getSimpleName());
        };
    }

    private static boolean fitsUint32(long[] a) {
        for (long v : a) {
            if (v < 0 || v > 0xFFFF_FFFFL) {
                return false;
            }
        }
        return true;
    }
}
