package io.flexq.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/** JavaCPP helpers shared by the classes that make CUDA calls. */
final class Native {

    private Native() {
    }

    /**
     * A JavaCPP pointer at a raw address (device or host). JavaCPP has no public factory for this; the
     * address field is protected, so an anonymous subclass sets it. The pointer owns nothing.
     */
    static Pointer at(long raw) {
        // (the parameter must not be called "address": inside the anonymous class that name is the
        // inherited field, which would shadow it and leave the pointer at 0)
        return new Pointer() {
            {
                this.address = raw;
            }
        };
    }

    static String string(BytePointer p) {
        return p == null || p.isNull() ? "?" : p.getString();
    }
}
