package io.flexq.plugin.cli;

import io.flexq.plugin.fq6.LinearTensors;
import io.flexq.plugin.fq6.QuantizedModel;
import io.flexq.runtime.gguf.GgufType;
import io.flexq.runtime.model.TensorEntry;
import io.flexq.runtime.tensor.FloatTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPTQ is on by default only where its cost is bounded: the 27M reference shape yes, the Llama-3.1-8B shape no. */
class GptqBoundTest {

    /** Shapes only (no weight bytes): what the bound looks at. */
    static QuantizedModel shaped(int blocks, long dim, long kv, long hidden, long vocab) {
        Map<String, Object> md = new LinkedHashMap<>();
        Map<String, GgufType> types = new LinkedHashMap<>();
        md.put("general.architecture", "llama");
        types.put("general.architecture", GgufType.STRING);
        md.put("llama.block_count", (long) blocks);
        types.put("llama.block_count", GgufType.UINT32);
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        put(t, "token_embd.weight", dim, vocab);
        for (int b = 0; b < blocks; b++) {
            for (String kind : LinearTensors.KINDS) {
                long[] ne = switch (kind) {
                    case "attn_k", "attn_v" -> new long[] {dim, kv};
                    case "ffn_gate", "ffn_up" -> new long[] {dim, hidden};
                    case "ffn_down" -> new long[] {hidden, dim};
                    default -> new long[] {dim, dim};
                };
                put(t, "blk." + b + "." + kind + ".weight", ne[0], ne[1]);
            }
        }
        return new QuantizedModel(Path.of("shape"), "gguf", md, types, t);
    }

    private static void put(Map<String, TensorEntry> t, String name, long cols, long rows) {
        t.put(name, new TensorEntry(name, FloatTypes.F16, new long[] {cols, rows}, MemorySegment.NULL));
    }

    @Test
    void theBoundAdmitsThe27MShapeAndRefusesThe8BShape() {
        QuantizedModel m27 = shaped(8, 512, 256, 1536, 4096);
        // 8 x (3 x 512^3 + 1536^3) + 512^3 for the head input
        assertEquals(8 * (3 * Math.pow(512, 3) + Math.pow(1536, 3)) + Math.pow(512, 3), QuantizePipeline.gptqFactorisationWork(m27), 1);
        assertEquals(8L * (8 * (3 * 512 * 512 + 1536 * 1536)) + 8L * 512 * 512, QuantizePipeline.gptqHessianBytes(m27));
        assertTrue(QuantizePipeline.gptqUnboundedReason(m27).isEmpty());
        QuantizedModel m8b = shaped(32, 4096, 1024, 14336, 128256);
        String why = QuantizePipeline.gptqUnboundedReason(m8b).orElseThrow();
        assertTrue(why.contains("--gptq"), why);
    }
}
