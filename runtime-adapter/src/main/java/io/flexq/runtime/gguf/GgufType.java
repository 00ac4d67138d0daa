package io.flexq.runtime.gguf;

/**
 * The GGUF metadata value types, each with the id the file stores (looked up by value, never by ordinal)
 * and the Java type {@link io.flexq.runtime.model.Metadata} uses for it.
 *
 * <p>Java mapping (as Metadata documents): UINT8, INT8, UINT16, INT16, INT32 -> Integer (unsigned ones
 * non-negative); UINT32, INT64, UINT64 -> Long (UINT64 above 2^63 - 1 wraps to a negative Long, its bits
 * unchanged); FLOAT32 -> Float; FLOAT64 -> Double; BOOL -> Boolean; STRING -> String (UTF-8). Arrays:
 * int[] for UINT8..INT16 and INT32, long[] for UINT32, INT64, UINT64, float[], double[], boolean[], String[],
 * and Object[] (whose elements are arrays again) for arrays of arrays.
 */
public enum GgufType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 0),
    ARRAY(9, 0),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int fixedBytes;

    GgufType(int id, int fixedBytes) {
        this.id = id;
        this.fixedBytes = fixedBytes;
    }

    /** The value written in the file. */
    public int id() {
        return id;
    }

    /** The type with this id, or null when the id is not a GGUF value type. */
    public static GgufType byId(int id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /**
     * The fewest bytes one value of this type can occupy in a file: its size for fixed-size types,
     * 8 (the u64 length) for a string, 12 (u32 element type + u64 count) for an array. A count of n
     * values needs at least n * minBytes(), which is how hostile counts are refused before allocating.
     */
    public long minBytes() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> fixedBytes;
        };
    }

    /** Whether values of this type are read into a Java int / int[] (as opposed to long, float, ...). */
    boolean isIntSized() {
        return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == INT32;
    }

    boolean isLongSized() {
        return this == UINT32 || this == INT64 || this == UINT64;
    }

    /** Lower-case name as gguf-py prints it ("uint32", "string", ...). */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
