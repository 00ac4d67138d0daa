package io.flexq.plugin.fq6;

import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.runtime.model.ModelFormatException;

import java.util.Map;

/**
 * The two keys every reader of FQ6 tensors must check before trusting their bytes: {@code flexq.format_version}
 * (1..{@value Fq6Keys#FORMAT_VERSION}: a newer file may lay codes out differently) and {@code flexq.group_size}
 * (128: the only group the layout defines). Called wherever FQ6 tensors are opened: by the FQ6 tensor type when a
 * GGUF holding one is opened (whatever command opens it), by {@link Fq6File#open}, and by the backends that load
 * FQ6 weights with a model's metadata.
 */
public final class Fq6Header {

    private Fq6Header() {
    }

    /**
     * @param source      the file (or tensor) for the message
     * @param keysOptional true for in-memory weights (tests, benchmarks), which carry no header: absent keys pass,
     *                     present ones must still be right
     * @throws ModelFormatException naming the source, the key and the value
     */
    public static void check(Map<String, Object> metadata, String source, boolean keysOptional) {
        Object version = metadata == null ? null : metadata.get(Fq6Keys.VERSION);
        Object group = metadata == null ? null : metadata.get(Fq6Keys.GROUP_SIZE);
        if (keysOptional && version == null && group == null) {
            return;
        }
        long v = integer(version, Fq6Keys.VERSION, source);
        if (v < 1 || v > Fq6Keys.FORMAT_VERSION) {
            throw new ModelFormatException(source + ": " + Fq6Keys.VERSION + " = " + v + ", this reader knows 1.."
                    + Fq6Keys.FORMAT_VERSION + (v > Fq6Keys.FORMAT_VERSION ? "; update FlexQ-J" : "; the file is corrupt"));
        }
        long g = integer(group, Fq6Keys.GROUP_SIZE, source);
        if (g != Fq6Layout.GROUP) {
            throw new ModelFormatException(source + ": " + Fq6Keys.GROUP_SIZE + " = " + g + ", only " + Fq6Layout.GROUP + " is defined");
        }
    }

    private static long integer(Object value, String key, String source) {
        if (value == null) {
            throw new ModelFormatException(source + ": holds FQ6 tensors but no " + key + " key; not a file FlexQ-J wrote");
        }
        if (!(value instanceof Integer || value instanceof Long)) {
            throw new ModelFormatException(source + ": " + key + " should be an unsigned integer, is a " + value.getClass().getSimpleName());
        }
        return ((Number) value).longValue();
    }
}
