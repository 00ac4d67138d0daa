package io.flexq.jlama.convert;

import io.flexq.runtime.llama.LlamaConfig;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.model.ModelFormatException;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Converts one of our Llama models (GGUF, llama2.c .bin) into an HF folder that Jlama (and any HF loader)
 * reads: {@code config.json}, {@code model.safetensors}, {@code tokenizer.json}, {@code tokenizer_config.json} and a
 * {@code README.md} saying where it came from (Jlama's own quantizer copies it).
 *
 * <ul>
 * <li>Tensors: GGUF names to HF names; F32 and F16 tensors keep their bytes, other types are dequantized to
 *   F32 by their own row decoder. {@code output.weight} becomes {@code lm_head.weight} (tie_word_embeddings
 *   false) when present.</li>
 * <li>RoPE: GGUF rotates adjacent pairs, HF/Jlama rotate halves, so the rows of q and k are put back in
 *   HF order, the inverse of llama.cpp's converter: within head h of d dims,
 *   {@code hf_row[h*d + t*(d/2) + i] = gguf_row[h*d + 2i + t]} for i < d/2, t in {0, 1}.</li>
 * <li>Refused: partial rotary (rope dims below the head size) and rope scaling, which config.json's
 *   Llama fields would not carry faithfully.</li>
 * </ul>
 * The folder is written under a temporary name and renamed when complete.
 */
public final class HfFolderWriter {

    private HfFolderWriter() {
    }

    /** Converts {@code model}; {@code tokenizerBin} is needed for a llama2.c checkpoint (its vocabulary is not in the file). */
    public static void convert(Path model, Optional<Path> tokenizerBin, Path outDir) {
        try (ModelFile file = ModelFiles.open(model, BuiltinTypes.registry(HfFolderWriter.class.getClassLoader()))) {
            LlamaConfig c = LlamaConfig.from(file);
            if (c.ropeDim() != c.headSize()) {
                throw new ModelFormatException(model + ": rope.dimension_count " + c.ropeDim() + " is not the head size " + c.headSize()
                        + "; HF Llama config.json has no partial rotary, not converted");
            }
            if (!(c.ropeScaling() instanceof io.flexq.runtime.llama.RopeScaling.None)) {
                throw new ModelFormatException(model + ": RoPE scaling " + c.ropeScaling() + " is not converted to config.json");
            }
            SpVocabulary vocab = file.metadata().has("tokenizer.ggml.model")
                    ? SpVocabulary.fromGguf(file.metadata())
                    : SpVocabulary.fromLlama2c(tokenizerBin.orElseThrow(() -> new ModelFormatException(model
                            + ": no vocabulary in the file; give the llama2.c tokenizer.bin")), c.vocabSize());
            if (vocab.size() != c.vocabSize()) {
                throw new ModelFormatException(model + ": vocabulary has " + vocab.size() + " pieces, token_embd.weight " + c.vocabSize() + " rows");
            }
            Path tmp = outDir.resolveSibling(outDir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            Files.createDirectories(tmp);
            boolean lmHead = file.tensors().containsKey("output.weight");
            Files.writeString(tmp.resolve("config.json"), JsonOut.write(config(c, vocab, lmHead)));
            Files.writeString(tmp.resolve("tokenizer.json"), TokenizerJson.write(vocab), StandardCharsets.UTF_8);
            Files.writeString(tmp.resolve("tokenizer_config.json"), TokenizerJson.config(vocab), StandardCharsets.UTF_8);
            Files.writeString(tmp.resolve("README.md"), "# " + outDir.getFileName() + "\n\nConverted by FlexQ-J's HfFolderWriter from `"
                    + model.getFileName() + "` (" + file.format() + "); weights unchanged (F32/F16 kept, other types dequantized to F32), "
                    + "q/k rows in HF rotate-half order.\n", StandardCharsets.UTF_8);
            SafetensorsOut st = new SafetensorsOut();
            for (TensorEntry t : file.tensors().values()) {
                String hf = hfName(t.name(), model);
                if (hf == null) {
                    continue;
                }
                int heads = t.name().endsWith("attn_q.weight") ? c.heads() : t.name().endsWith("attn_k.weight") ? c.kvHeads() : 0;
                st.add(tensor(hf, t, heads, c.headSize()));
            }
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp.resolve("model.safetensors")), 1 << 20)) {
                st.write(out);
            }
            if (Files.exists(outDir)) {
                throw new IOException(outDir + " already exists; not overwritten");
            }
            Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(model + " -> " + outDir + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Object> config(LlamaConfig c, SpVocabulary v, boolean lmHead) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", java.util.List.of("LlamaForCausalLM"));
        m.put("model_type", "llama");
        m.put("hidden_size", c.dim());
        m.put("intermediate_size", c.hiddenDim());
        m.put("num_attention_heads", c.heads());
        m.put("num_key_value_heads", c.kvHeads());
        m.put("num_hidden_layers", c.layers());
        m.put("head_dim", c.headSize());
        m.put("rms_norm_eps", c.rmsEps());
        m.put("vocab_size", c.vocabSize());
        m.put("bos_token_id", Math.max(v.bos(), 0));
        m.put("eos_token_id", Math.max(v.eos(), 0));
        m.put("hidden_act", "silu");
        m.put("rope_theta", c.ropeTheta());
        m.put("max_position_embeddings", c.contextLength());
        m.put("tie_word_embeddings", !lmHead);
        m.put("attention_bias", false);
        m.put("mlp_bias", false);
        m.put("torch_dtype", "float32");
        return m;
    }

    /** The HF name of a GGUF tensor, or null for tensors HF does not store (none for plain Llama). */
    static String hfName(String gguf, Path model) {
        switch (gguf) {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
            default:
        }
        if (gguf.startsWith("blk.")) {
            int dot = gguf.indexOf('.', 4);
            String layer = "model.layers." + gguf.substring(4, dot) + ".";
            String rest = gguf.substring(dot + 1);
            String hf = switch (rest) {
                case "attn_norm.weight" -> "input_layernorm.weight";
                case "ffn_norm.weight" -> "post_attention_layernorm.weight";
                case "attn_q.weight" -> "self_attn.q_proj.weight";
                case "attn_k.weight" -> "self_attn.k_proj.weight";
                case "attn_v.weight" -> "self_attn.v_proj.weight";
                case "attn_output.weight" -> "self_attn.o_proj.weight";
                case "ffn_gate.weight" -> "mlp.gate_proj.weight";
                case "ffn_up.weight" -> "mlp.up_proj.weight";
                case "ffn_down.weight" -> "mlp.down_proj.weight";
                default -> null;
            };
            if (hf != null) {
                return layer + hf;
            }
        }
        throw new ModelFormatException(model + ": tensor '" + gguf + "' has no HF Llama name; not converted");
    }

    /** The tensor's bytes in HF layout: F32/F16 as stored, anything else dequantized to F32; q/k rows un-permuted. */
    private static SafetensorsOut.Tensor tensor(String hf, TensorEntry t, int heads, int headDim) {
        int rows = Math.toIntExact(t.rows());
        int cols = Math.toIntExact(t.cols());
        boolean raw = t.type().id() == 0 || t.type().id() == 1;
        String dtype = t.type().id() == 1 ? "F16" : "F32";
        int elem = dtype.equals("F16") ? 2 : 4;
        long rowBytes = (long) cols * elem;
        byte[] out = new byte[Math.toIntExact(rowBytes * rows)];
        MemorySegment dst = MemorySegment.ofArray(out);
        float[] row = raw ? null : new float[cols];
        for (int r = 0; r < rows; r++) {
            int src = heads == 0 ? r : ggufRow(r, headDim);
            if (raw) {
                MemorySegment.copy(t.data(), src * rowBytes, dst, r * rowBytes, rowBytes);
            } else {
                t.type().dequantizeRow(t.data(), src, cols, row, 0);
                MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, r * rowBytes, cols);
            }
        }
        long[] shape = t.ne().length == 1 ? new long[]{cols} : new long[]{rows, cols};
        return new SafetensorsOut.Tensor(hf, dtype, shape, out);
    }

    /** The GGUF row holding HF row {@code hfRow} of a q or k projection (class comment). */
    static int ggufRow(int hfRow, int headDim) {
        int h = hfRow / headDim, j = hfRow % headDim, half = headDim / 2;
        int t = j / half, i = j % half;
        return h * headDim + 2 * i + t;
    }

    /** {@code HfFolderWriter MODEL OUT_DIR [TOKENIZER_BIN]}. */
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: HfFolderWriter MODEL(.gguf|.bin) OUT_DIR [llama2.c tokenizer.bin]");
            System.exit(2);
        }
        try {
            convert(Path.of(args[0]), args.length == 3 ? Optional.of(Path.of(args[2])) : Optional.empty(), Path.of(args[1]));
            System.err.println("wrote " + args[1]);
        } catch (RuntimeException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }
}
