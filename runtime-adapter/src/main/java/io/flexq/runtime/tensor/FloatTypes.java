package io.flexq.runtime.tensor;

/** The plain float storage types: F32 (GGUF id 0), F16 (id 1), BF16 (id 30). Stateless rows of the type table. */
public final class FloatTypes {

    private FloatTypes() {
    }

    public static final F32Type F32 = new F32Type();
    public static final F16Type F16 = new F16Type();
    public static final BF16Type BF16 = new BF16Type();
}
