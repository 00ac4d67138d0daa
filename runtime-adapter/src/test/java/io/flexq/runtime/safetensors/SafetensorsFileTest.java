package io.flexq.runtime.safetensors;

import io.flexq.runtime.model.Metadata;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.spi.TensorTypes;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {

    static final TensorTypes TYPES = new TensorTypes(List.of(FloatTypes.F32, FloatTypes.F16, FloatTypes.BF16));
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final HfModelWriter.Dims DIMS = new HfModelWriter.Dims(32, 48, 2, 4, 2, 40);

    @TempDir
    Path dir;

    /** GGUF names for the HF names, written out independently of the loader's table. */
    static String gguf(String hf) {
        return switch (hf) {
            case "model.embed_tokens.weight" -> "token_embd.weight";
            case "model.norm.weight" -> "output_norm.weight";
            case "lm_head.weight" -> "output.weight";
            default -> {
                String[] p = hf.split("\\.");   // model.layers.N.<module>[.<sub>].weight
                String kind = switch (p[3] + "." + p[4]) {
                    case "input_layernorm.weight" -> "attn_norm";
                    case "post_attention_layernorm.weight" -> "ffn_norm";
                    case "self_attn.q_proj" -> "attn_q";
                    case "self_attn.k_proj" -> "attn_k";
                    case "self_attn.v_proj" -> "attn_v";
                    case "self_attn.o_proj" -> "attn_output";
                    case "mlp.gate_proj" -> "ffn_gate";
                    case "mlp.up_proj" -> "ffn_up";
                    case "mlp.down_proj" -> "ffn_down";
                    default -> throw new AssertionError(hf);
                };
                yield "blk." + p[2] + "." + kind + ".weight";
            }
        };
    }

    static double[] values(TensorEntry t) {
        long n = t.elementCount();
        double[] out = new double[(int) n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (t.type().name()) {
                case "F32" -> t.data().get(F32, 4L * i);
                case "F16" -> Float.float16ToFloat(t.data().get(I16, 2L * i));
                case "BF16" -> Float.intBitsToFloat(t.data().get(I16, 2L * i) << 16);
                default -> throw new AssertionError(t.type());
            };
        }
        return out;
    }

    private void checkModel(ModelFile f, Map<String, HfModelWriter.Tensor> hf, boolean expectOutput, String ctx) {
        assertEquals("safetensors", f.format(), ctx);
        Metadata m = f.metadata();
        assertEquals("llama", m.getString("general.architecture"), ctx);
        assertEquals(32, m.getInt("llama.embedding_length"), ctx);
        assertEquals(48, m.getInt("llama.feed_forward_length"), ctx);
        assertEquals(2, m.getInt("llama.block_count"), ctx);
        assertEquals(4, m.getInt("llama.attention.head_count"), ctx);
        assertEquals(2, m.getInt("llama.attention.head_count_kv"), ctx);
        assertEquals(8, m.getInt("llama.rope.dimension_count"), ctx);
        assertEquals(96, m.getInt("llama.context_length"), ctx);
        assertEquals(40, m.getInt("llama.vocab_size"), ctx);
        assertEquals(1e-5f, m.require("llama.attention.layer_norm_rms_epsilon"), ctx);
        assertEquals(500000f, m.require("llama.rope.freq_base"), ctx);

        assertEquals(expectOutput, f.tensors().containsKey("output.weight"), ctx);
        assertEquals(2 + 9 * 2 + (expectOutput ? 1 : 0), f.tensors().size(), ctx);
        for (HfModelWriter.Tensor t : hf.values()) {
            String name = gguf(t.name());
            if (name.equals("output.weight") && !expectOutput) continue;
            TensorEntry e = f.tensor(name);
            long[] s = t.shape();
            long[] ne = s.length == 1 ? new long[]{s[0]} : new long[]{s[1], s[0]};
            assertArrayEquals(ne, e.ne(), ctx + " " + name);
            assertEquals(t.dtype(), e.type().name(), ctx + " " + name);
            double[] got = values(e);
            if (name.contains("attn_q") || name.contains("attn_k")) {
                checkRopeEquivalence(t, e, name.contains("attn_q") ? DIMS.heads() : DIMS.kvHeads(), ctx + " " + name);
            } else {
                assertArrayEquals(t.values(), got, 0.0, ctx + " " + name);
            }
        }
    }

    /**
     * The defining property of the q/k row permutation: for any input x and position p, applying
     * adjacent-pair RoPE to (W_gguf x) gives, head by head, the same vector as HF's rotate-half RoPE
     * applied to (W_hf x), with dimensions reordered as (i, i + d/2) -> (2i, 2i + 1). Hence q.k scores
     * are the same. Both RoPEs are written here in float64 from their papers' definitions.
     */
    private static void checkRopeEquivalence(HfModelWriter.Tensor hfT, TensorEntry g, int nHead, String ctx) {
        int d = DIMS.headDim(), cols = DIMS.hidden(), rows = nHead * d;
        double theta = 500000.0;
        double[] w = values(g);
        long seed = 4242;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 3; trial++) {
            double[] x = new double[cols];
            for (int i = 0; i < cols; i++) x[i] = rnd.nextGaussian();
            int pos = rnd.nextInt(90);
            double[] yh = matvec(hfT.values(), x, rows, cols), yg = matvec(w, x, rows, cols);
            for (int h = 0; h < nHead; h++) {
                double[] rh = new double[d], rg = new double[d];
                for (int i = 0; i < d / 2; i++) {
                    double ang = pos * Math.pow(theta, -2.0 * i / d), c = Math.cos(ang), s = Math.sin(ang);
                    double a = yh[h * d + i], b = yh[h * d + i + d / 2];           // HF: rotate half
                    rh[i] = a * c - b * s;
                    rh[i + d / 2] = b * c + a * s;
                    double u = yg[h * d + 2 * i], v = yg[h * d + 2 * i + 1];       // GGUF: adjacent pairs
                    rg[2 * i] = u * c - v * s;
                    rg[2 * i + 1] = v * c + u * s;
                }
                for (int i = 0; i < d / 2; i++) {
                    String where = ctx + " head " + h + " pair " + i + " pos " + pos + " seed " + seed;
                    assertEquals(rh[i], rg[2 * i], 1e-9, where);
                    assertEquals(rh[i + d / 2], rg[2 * i + 1], 1e-9, where);
                }
            }
        }
    }

    private static double[] matvec(double[] w, double[] x, int rows, int cols) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int c = 0; c < cols; c++) acc += w[r * cols + c] * x[c];
            y[r] = acc;
        }
        return y;
    }

    @Test
    void singleFileF32ModelLoadsWithGgufNamesShapesAndPermutedQk() throws IOException {
        long seed = 1;
        var hf = HfModelWriter.randomModel(DIMS, true, "F32", seed);
        Path m = dir.resolve("m");
        HfModelWriter.writeModel(m, DIMS, hf, false, "");
        try (SafetensorsFile f = SafetensorsFile.open(m, TYPES)) {
            checkModel(f, hf, true, "seed " + seed);
            assertSame(FloatTypes.F32, f.tensor("token_embd.weight").type());
            assertFalse(f.tensors().containsKey("rope_freqs.weight"));
        }
        // through the dispatcher, by directory and by file
        try (ModelFile f = ModelFiles.open(m, TYPES)) {
            checkModel(f, hf, true, "dir seed " + seed);
        }
        try (ModelFile f = ModelFiles.open(m.resolve("model.safetensors"), TYPES)) {
            checkModel(f, hf, true, "file seed " + seed);
        }
    }

    @Test
    void f16AndBf16TensorsKeepTheirTypeAndBits() throws IOException {
        for (String dtype : List.of("F16", "BF16")) {
            long seed = dtype.length();
            var hf = HfModelWriter.randomModel(DIMS, true, dtype, seed);
            Path m = dir.resolve(dtype);
            HfModelWriter.writeModel(m, DIMS, hf, false, "");
            try (SafetensorsFile f = SafetensorsFile.open(m, TYPES)) {
                checkModel(f, hf, true, dtype + " seed " + seed);
                assertSame(dtype.equals("F16") ? FloatTypes.F16 : FloatTypes.BF16, f.tensor("blk.1.ffn_down.weight").type());
            }
        }
    }

    @Test
    void shardedModelLoadsFromDirectoryIndexOrAnyShard() throws IOException {
        long seed = 3;
        var hf = HfModelWriter.randomModel(DIMS, true, "F32", seed);
        Path m = dir.resolve("sharded");
        HfModelWriter.writeSharded(m, DIMS, hf, false);
        for (Path p : List.of(m, m.resolve("model.safetensors.index.json"), m.resolve("model-00002-of-00002.safetensors"))) {
            try (ModelFile f = ModelFiles.open(p, TYPES)) {
                checkModel(f, hf, true, p + " seed " + seed);
            }
        }
    }

    @Test
    void tiedEmbeddingsHaveNoOutputWeight() throws IOException {
        long seed = 4;
        var noHead = HfModelWriter.randomModel(DIMS, false, "F32", seed);
        Path a = dir.resolve("tied");
        HfModelWriter.writeModel(a, DIMS, noHead, true, "");
        try (SafetensorsFile f = SafetensorsFile.open(a, TYPES)) {
            checkModel(f, noHead, false, "tied seed " + seed);
        }
        // an lm_head stored anyway is the embedding: not exposed
        var withHead = HfModelWriter.randomModel(DIMS, true, "F32", seed);
        Path b = dir.resolve("tied-with-head");
        HfModelWriter.writeModel(b, DIMS, withHead, true, "");
        try (SafetensorsFile f = SafetensorsFile.open(b, TYPES)) {
            checkModel(f, withHead, false, "tied+head seed " + seed);
        }
    }

    /**
     * llama3 rope scaling: rope_freqs.weight holds divisors such that theta^(-2i/d) / divisor_i equals
     * the scaled inverse frequency HF's _compute_llama3_parameters defines (re-derived here in float64).
     */
    @Test
    void llama3RopeScalingGivesKeysAndFrequencyDivisors() throws IOException {
        var hf = HfModelWriter.randomModel(DIMS, false, "F32", 5);
        // with head_dim 8 and theta 500000 the pair wavelengths are 6.3, 167, 4443, 118000: an original
        // context of 256 puts them below (kept), between (blended) and above (scaled) the thresholds 64 and 256
        String scaling = ",\n  \"rope_scaling\": {\"factor\": 32.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                + "\"original_max_position_embeddings\": 256, \"rope_type\": \"llama3\"}";
        Path m = dir.resolve("l3");
        HfModelWriter.writeModel(m, DIMS, hf, true, scaling);
        try (SafetensorsFile f = SafetensorsFile.open(m, TYPES)) {
            Metadata md = f.metadata();
            assertEquals("llama3", md.getString("llama.rope.scaling.type"));
            assertEquals(32f, md.require("llama.rope.scaling.factor"));
            assertEquals(256L, md.getLong("llama.rope.scaling.original_context_length"));
            assertEquals(1f, md.require("llama.rope.scaling.low_freq_factor"));
            assertEquals(4f, md.require("llama.rope.scaling.high_freq_factor"));
            TensorEntry rf = f.tensor("rope_freqs.weight");
            assertNotNull(rf);
            assertArrayEquals(new long[]{4}, rf.ne());
            double[] div = values(rf);
            int d = DIMS.headDim();
            boolean sawScaled = false, sawKept = false, sawBlend = false;
            for (int i = 0; i < d / 2; i++) {
                double inv = Math.pow(500000.0, -2.0 * i / d);
                // HF llama3: wavelen = 2 pi / inv; keep if wavelen < 256/4, divide by 32 if wavelen > 256/1,
                // else (1 - smooth) * inv / 32 + smooth * inv with smooth = (256 / wavelen - 1) / (4 - 1)
                double wavelen = 2 * Math.PI / inv, want;
                if (wavelen < 64) { want = inv; sawKept = true; }
                else if (wavelen > 256) { want = inv / 32; sawScaled = true; }
                else {
                    double smooth = (256 / wavelen - 1) / 3;
                    want = (1 - smooth) * inv / 32 + smooth * inv;
                    sawBlend = true;
                }
                assertEquals(want, inv / div[i], want * 1e-6, "pair " + i);
            }
            assertTrue(sawKept && sawScaled && sawBlend, "every branch covered");
        }
    }
}
