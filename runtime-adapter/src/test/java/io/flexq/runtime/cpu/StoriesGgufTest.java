package io.flexq.runtime.cpu;

import io.flexq.runtime.gguf.GgufFile;
import io.flexq.runtime.model.SharedData;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.BuiltinTypes;
import io.flexq.runtime.tensor.SpecDecoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The built-in types read what llama.cpp wrote: stories260K's Q8_0 and F16 GGUFs (made by llama-quantize from
 * the F32 GGUF, see models/README.md) decode to the F32 file's weights within llama.cpp's own rounding.
 */
class StoriesGgufTest {

    static final long SEED = 0x5EED_0006L;
    /** Three workers even on a 2-core machine, so matmuls take the parallel path. */
    static final ForkJoinPool POOL = new ForkJoinPool(3);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }
    static final TensorTypes TYPES = new TensorTypes(BuiltinTypes.all());

    static float[] f32(TensorEntry t) {
        return t.data().asSlice(0, 4 * t.cols() * t.rows())
                .toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
    }

    static GgufFile open(String model) {
        return GgufFile.open(SharedData.require("models/" + model), TYPES);
    }

    static float[] dequantize(TensorEntry t) {
        TensorType type = t.type();
        int cols = (int) t.cols();
        int rows = (int) t.rows();
        // the reader hands out exactly the tensor's bytes; at most the padding to the file's alignment (32) more is allowed
        long size = type.byteSize(cols, rows);
        assertTrue(size <= t.data().byteSize() && t.data().byteSize() - size < 32, t.name() + " size " + size + " in a slot of " + t.data().byteSize());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            type.dequantizeRow(t.data(), r, cols, out, r * cols);
        }
        return out;
    }

    /**
     * llama.cpp's Q8_0: d = absmax / 127, codes round(x / d), d stored as fp16. Then
     * |x - code * fp16(d)| &lt;= d / 2 + 127 * |fp16(d) - d|; a misread layout is off by about absmax instead.
     */
    @Test
    void q8_0FileDecodesToTheF32WeightsWithinLlamaCppRounding() {
        try (GgufFile f32File = open("stories260K-f32.gguf"); GgufFile q8File = open("stories260K-q8_0.gguf")) {
            Map<String, TensorEntry> f32 = f32File.tensors();
            Map<String, TensorEntry> q8 = q8File.tensors();
            int checked = 0;
            for (TensorEntry t : q8.values()) {
                float[] want = f32(f32.get(t.name()));
                float[] got = dequantize(t);
                switch (t.type().id()) {
                    case 8 -> {
                        for (int b = 0; b < want.length / 32; b++) {
                            double amax = 0;
                            for (int j = 0; j < 32; j++) {
                                amax = Math.max(amax, Math.abs(want[32 * b + j]));
                            }
                            double d = amax / 127;
                            double d16 = SpecDecoder.half(t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 34L * b) & 0xFFFF);
                            double bound = d / 2 * (1 + 1e-6) + 127 * Math.abs(d16 - d);
                            for (int j = 0; j < 32; j++) {
                                int i = 32 * b + j;
                                if (!(Math.abs(got[i] - want[i]) <= bound)) {
                                    fail(t.name() + " element " + i + ": Q8_0 " + got[i] + " vs F32 " + want[i] + ", bound " + bound);
                                }
                            }
                        }
                    }
                    case 1 -> {
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(Float.float16ToFloat(Float.floatToFloat16(want[i])), got[i], 0f, t.name() + " element " + i);
                        }
                    }
                    case 0 -> {
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(want[i], got[i], 0f, t.name() + " element " + i);
                        }
                    }
                    default -> fail(t.name() + ": unexpected type " + t.type().name());
                }
                checked++;
            }
            assertEquals(q8.size(), checked);
            assertEquals(8, q8.get("blk.0.attn_q.weight").type().id(), "attn_q should be Q8_0");
            assertEquals(1, q8.get("blk.0.ffn_down.weight").type().id(), "ffn_down (172 columns) should have fallen back to F16");
        }
    }

    @Test
    void f16FileHoldsTheF32WeightsRoundedToNearestHalf() {
        try (GgufFile f32File = open("stories260K-f32.gguf"); GgufFile f16File = open("stories260K-f16.gguf")) {
            Map<String, TensorEntry> f32 = f32File.tensors();
            Map<String, TensorEntry> f16 = f16File.tensors();
            for (TensorEntry t : f16.values()) {
                float[] want = f32(f32.get(t.name()));
                float[] got = dequantize(t);
                for (int i = 0; i < want.length; i++) {
                    float w = t.type().id() == 1 ? Float.float16ToFloat(Float.floatToFloat16(want[i])) : want[i];
                    if (w != got[i]) {
                        fail(t.name() + " (" + t.type() + ") element " + i + ": " + got[i] + " vs " + w);
                    }
                }
            }
        }
    }

    /** The backend multiplies straight from the mapped file (a shared arena, so pool threads read it). */
    @Test
    void mappedQ8_0EmbeddingMultipliesLikeTheReference() {
        Random rnd = new Random(SEED);
        try (GgufFile q8 = open("stories260K-q8_0.gguf"); Arena arena = Arena.ofShared()) {
            TensorEntry emb = q8.tensor("token_embd.weight");
            int rows = (int) emb.rows();
            int cols = (int) emb.cols();
            CpuMatrix m = new CpuBackend(POOL).load(emb.name(), emb.type(), rows, cols,
                    emb.data().asSlice(0, (long) rows * cols / 32 * 34));
            assertEquals(emb.data().address(), m.data().address(), "no copy of mapped bytes");
            byte[] bytes = m.data().toArray(ValueLayout.JAVA_BYTE);
            double[] w = SpecDecoder.q8_0(bytes, rows * cols); // rows are whole blocks, so the matrix decodes as one long row
            for (int tokens : new int[]{1, 5}) {
                ActivationBatch in = KernelCheck.randomBatch(arena, tokens, cols, rnd);
                ActivationBatch out = ActivationBatch.allocate(arena, tokens, rows);
                m.matmul(in, out);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double exact = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            exact += w[r * cols + c] * in.get(t, c);
                            mag += Math.abs(w[r * cols + c] * in.get(t, c));
                        }
                        double tol = (cols + 32) * 0x1p-24 * mag;
                        if (tokens >= NativeQ8.MIN_TOKENS && NativeQ8.available()) { // 8-bit activations (NativeQ8)
                            tol += KernelCheck.activationRounding(java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols), in, t);
                        }
                        assertTrue(Math.abs(out.get(t, r) - exact) <= tol,
                                "token " + t + " row " + r + ": " + out.get(t, r) + " vs " + exact + " (seed " + SEED + ")");
                    }
                }
            }
        }
    }
}
