package io.flexq.plugin.fq6;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which tensors of a Llama model FlexQ quantizes: the seven linear weights of every block,
 * {@code blk.N.attn_q/attn_k/attn_v/attn_output/ffn_gate/ffn_up/ffn_down.weight} (GGUF names).
 * Embeddings, norms and the output head keep their types.
 */
public final class LinearTensors {

    private LinearTensors() {
    }

    /** The seven linear kinds of a block, in forward order. */
    public static final List<String> KINDS = List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down");

    private static final Pattern NAME = Pattern.compile("blk\\.(\\d+)\\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight");

    /** A linear tensor's block index and kind. */
    public record Linear(int block, String kind) {
        public String tensorName() {
            return "blk." + block + "." + kind + ".weight";
        }
    }

    public static Optional<Linear> parse(String tensorName) {
        Matcher m = NAME.matcher(tensorName);
        return m.matches() ? Optional.of(new Linear(Integer.parseInt(m.group(1)), m.group(2))) : Optional.empty();
    }

    public static boolean isLinear(String tensorName) {
        return NAME.matcher(tensorName).matches();
    }

    /** Sort key: block, then forward order of the kind. */
    public static int order(String tensorName) {
        return parse(tensorName).map(l -> l.block() * KINDS.size() + KINDS.indexOf(l.kind())).orElse(Integer.MAX_VALUE);
    }
}
