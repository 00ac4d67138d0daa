package io.flexq.jlama;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The seven linear weights of a Jlama Llama block: HF names as Jlama asks for them, and their GGUF names. */
final class LinearNames {

    private static final Pattern HF = Pattern.compile("model\\.layers\\.(\\d{1,6})\\.(self_attn\\.[qkvo]_proj|mlp\\.(?:gate|up|down)_proj)\\.weight");

    private static final Map<String, String> KIND = Map.of(
            "self_attn.q_proj", "attn_q", "self_attn.k_proj", "attn_k", "self_attn.v_proj", "attn_v", "self_attn.o_proj", "attn_output",
            "mlp.gate_proj", "ffn_gate", "mlp.up_proj", "ffn_up", "mlp.down_proj", "ffn_down");

    private LinearNames() {
    }

    /** "model.layers.3.mlp.down_proj.weight" -> "blk.3.ffn_down.weight"; empty for any other tensor. */
    static Optional<String> gguf(String hfName) {
        Matcher m = HF.matcher(hfName);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of("blk." + Integer.parseInt(m.group(1)) + "." + KIND.get(m.group(2)) + ".weight");
    }
}
