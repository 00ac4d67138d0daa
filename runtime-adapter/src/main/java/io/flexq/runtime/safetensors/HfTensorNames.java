package io.flexq.runtime.safetensors;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF Llama tensor names to GGUF names (llama.cpp's tensor map for the llama architecture):
 * <pre>
 *   model.embed_tokens.weight                         token_embd.weight
 *   model.norm.weight                                 output_norm.weight
 *   lm_head.weight                                    output.weight
 *   model.layers.N.input_layernorm.weight             blk.N.attn_norm.weight
 *   model.layers.N.self_attn.{q,k,v}_proj.{weight,bias}  blk.N.attn_{q,k,v}.{weight,bias}
 *   model.layers.N.self_attn.o_proj.{weight,bias}     blk.N.attn_output.{weight,bias}
 *   model.layers.N.post_attention_layernorm.weight    blk.N.ffn_norm.weight
 *   model.layers.N.mlp.{gate,up,down}_proj.{weight,bias}  blk.N.ffn_{gate,up,down}.{weight,bias}
 * </pre>
 * {@code model.layers.N.self_attn.rotary_emb.inv_freq} (old checkpoints) is derived data and dropped.
 */
final class HfTensorNames {

    private HfTensorNames() {
    }

    /** Marks a tensor that is known and deliberately not exposed. */
    static final String SKIP = "";

    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,9})\\.(.+)\\.(weight|bias)");
    private static final Pattern INV_FREQ = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");

    private static final Map<String, String> GLOBAL = Map.of(
            "model.embed_tokens.weight", "token_embd.weight",
            "model.norm.weight", "output_norm.weight",
            "lm_head.weight", "output.weight");

    private static final Map<String, String> PER_LAYER = Map.of(
            "input_layernorm", "attn_norm",
            "self_attn.q_proj", "attn_q",
            "self_attn.k_proj", "attn_k",
            "self_attn.v_proj", "attn_v",
            "self_attn.o_proj", "attn_output",
            "post_attention_layernorm", "ffn_norm",
            "mlp.gate_proj", "ffn_gate",
            "mlp.up_proj", "ffn_up",
            "mlp.down_proj", "ffn_down");

    /** The GGUF name, {@link #SKIP} for known derived tensors, or null for a name this loader does not know. */
    static String toGguf(String hf) {
        String g = GLOBAL.get(hf);
        if (g != null) {
            return g;
        }
        if (INV_FREQ.matcher(hf).matches()) {
            return SKIP;
        }
        Matcher m = LAYER.matcher(hf);
        if (m.matches()) {
            String kind = PER_LAYER.get(m.group(2));
            boolean norm = kind != null && kind.endsWith("_norm");
            if (kind != null && !(norm && m.group(3).equals("bias"))) {
                return "blk." + Integer.parseInt(m.group(1)) + "." + kind + "." + m.group(3);
            }
        }
        return null;
    }

    /** The layer index of a GGUF name "blk.N....", or -1. */
    static int layerOf(String gguf) {
        if (!gguf.startsWith("blk.")) {
            return -1;
        }
        int dot = gguf.indexOf('.', 4);
        return Integer.parseInt(gguf.substring(4, dot));
    }
}
