package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import org.junit.jupiter.api.Test;

class ExploreTest {
    @Test
    void explore() {
        var dir = Fixtures.hfFolder(Fixtures.REF27M);
        AbstractModel m = ModelSupport.loadModel(dir.toFile(), DType.F32, DType.F32);
        var kv = new KvBufferCache(m).getEphemeralKvBuffer();
        int[] toks = {1, 1157, 326, 628, 261, 591, 4021, 290, 261, 1193, 2584, 388, 263, 1568, 4021, 484, 2180};
        AbstractTensor out = m.batchForward(toks, 0, kv);
        System.out.println("out shape " + out.shape());
        AbstractTensor last = out.slice(true, toks.length - 1);
        System.out.println("slice shape " + last.shape());
        AbstractTensor logits = m.makeDenseTensor(m.getConfig().vocabularySize);
        int best = m.sample(out.slice(true, toks.length - 1), 0f, 0f, logits);
        System.out.println("best " + best + " logit " + logits.get(0, best) + " 355:" + logits.get(0, 355) + " 263:" + logits.get(0, 263));
        System.out.println(m.generate(java.util.UUID.randomUUID(), com.github.tjake.jlama.safetensors.prompt.PromptContext.of("Once upon a time"), 0f, 30, (s, f) -> {}).responseText);
    }
}
