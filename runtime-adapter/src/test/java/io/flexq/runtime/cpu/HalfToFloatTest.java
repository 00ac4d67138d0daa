package io.flexq.runtime.cpu;

import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vector binary16 -> binary32 conversion of the F16 kernel against {@link Float#float16ToFloat}, all 65536 patterns. */
class HalfToFloatTest {

    @Test
    void everyHalfConvertsExactly() {
        int n = 1 << 16;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(2L * n, 64);
            for (int i = 0; i < n; i++) {
                w.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) i);
            }
            RowKernel k = RowKernel.of(FloatTypes.F16, n);
            float[] got = new float[n];
            // decode through the kernel twice so the JIT-compiled form is checked as well as the interpreted one
            for (int rep = 0; rep < 2000; rep++) {
                k.decode(w, 0, 0, rep == 1999 ? n : 64, got, 0);
            }
            for (int i = 0; i < n; i++) {
                float want = Float.float16ToFloat((short) i);
                if (Float.isNaN(want)) {
                    // NaN stays NaN (the payload is kept; the scalar intrinsic may quiet a signalling NaN)
                    assertTrue(Float.isNaN(got[i]), "half 0x" + Integer.toHexString(i));
                } else {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "half 0x" + Integer.toHexString(i));
                }
            }
        }
    }
}
