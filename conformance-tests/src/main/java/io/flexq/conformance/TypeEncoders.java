package io.flexq.conformance;

import io.flexq.plugin.quant.Fq6Layout;
import io.flexq.plugin.quant.WeightQuantizer;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinType;
import io.flexq.runtime.tensor.Quantizers;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Encoders by tensor type id: the runtime's own quantizers for its built-in types (F32, F16, BF16, Q8_0,
 * Q4_0, Q6_K) and FlexQ's INT6 quantizer (clipping search) for FQ6. A plugin type not listed here is
 * reported as "no encoder" by the matmul kit; its author adds one with {@link #with}.
 */
public final class TypeEncoders {

    private final Map<Integer, WeightEncoder> byId;

    private TypeEncoders(Map<Integer, WeightEncoder> byId) {
        this.byId = Map.copyOf(byId);
    }

    /** The encoders the project knows: built-in types through {@link Quantizers}, FQ6 through {@link WeightQuantizer#clipping()}. */
    public static TypeEncoders standard() {
        Map<Integer, WeightEncoder> m = new HashMap<>();
        m.put(Fq6Layout.TYPE_ID, (w, rows, cols, arena) -> {
            byte[] bytes = WeightQuantizer.clipping().quantize("conformance", w, rows, cols).weights().toFq6Bytes();
            return copy(bytes, arena);
        });
        return new TypeEncoders(m);
    }

    /** A copy with {@code encoder} used for type id {@code typeId}. */
    public TypeEncoders with(int typeId, WeightEncoder encoder) {
        Map<Integer, WeightEncoder> m = new HashMap<>(byId);
        m.put(typeId, encoder);
        return new TypeEncoders(m);
    }

    public Optional<WeightEncoder> find(TensorType type) {
        WeightEncoder e = byId.get(type.id());
        if (e != null) {
            return Optional.of(e);
        }
        if (type instanceof BuiltinType) {
            return Optional.of((w, rows, cols, arena) -> copy(Quantizers.quantize(type, w, rows, cols), arena));
        }
        return Optional.empty();
    }

    private static MemorySegment copy(byte[] bytes, java.lang.foreign.Arena arena) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }
}
