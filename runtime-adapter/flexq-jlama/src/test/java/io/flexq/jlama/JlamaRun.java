package io.flexq.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFiles;
import io.flexq.runtime.tensor.BuiltinTypes;

import java.nio.file.Path;
import java.util.Optional;

/** Next-token logits at every position of a token sequence, from Jlama and from our runtime. */
final class JlamaRun {

    private JlamaRun() {
    }

    /**
     * Jlama: the first {@code prompt} tokens in one batched forward (its prefill GEMM path), the rest one
     * token at a time (its decode path); raw logits through {@code AbstractModel.sample} at temperature 0,
     * which leaves them in the tensor it is given.
     */
    static float[][] jlama(AbstractModel m, int[] tokens, int prompt) {
        int vocab = m.getConfig().vocabularySize;
        float[][] out = new float[tokens.length][];
        KvBufferCache cache = new KvBufferCache(m);
        try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer()) {
            AbstractTensor h = m.batchForward(java.util.Arrays.copyOf(tokens, prompt), 0, kv);
            for (int p = 0; p < prompt; p++) {
                out[p] = logits(m, h.slice(true, p), vocab);
            }
            for (int p = prompt; p < tokens.length; p++) {
                AbstractTensor x = m.forward(tokens[p], p, kv, Optional.empty());
                out[p] = logits(m, x, vocab);
            }
        }
        cache.close();
        return out;
    }

    private static float[] logits(AbstractModel m, AbstractTensor hidden, int vocab) {
        try (AbstractTensor logits = m.makeDenseTensor(vocab)) {
            m.sample(hidden, 0f, 0f, logits);
            float[] r = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                r[i] = logits.get(0, i);
            }
            return r;
        }
    }

    /** Our runtime on {@code model} (GGUF or HF folder), the same split of prefill and decode. */
    static float[][] ours(Path model, int[] tokens, int prompt) {
        return ours(ModelFiles.open(model, BuiltinTypes.registry(JlamaRun.class.getClassLoader())), tokens, prompt);
    }

    /** Our runtime on an opened model (closed after). */
    static float[][] ours(io.flexq.runtime.model.ModelFile model, int[] tokens, int prompt) {
        float[][] out = new float[tokens.length][];
        try (model; Llama llama = Llama.load(model, JlamaRun.class.getClassLoader(), s -> { });
             LlamaSession s = llama.newSession(tokens.length + 1, prompt)) {
            float[][] first = s.forwardAll(tokens, 0, prompt);
            System.arraycopy(first, 0, out, 0, prompt);
            for (int p = prompt; p < tokens.length; p++) {
                out[p] = s.forward(tokens, p, 1).clone();
            }
        }
        return out;
    }

    /** max |a - b| over every position and token id. */
    static double maxAbsDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int p = 0; p < a.length; p++) {
            for (int i = 0; i < a[p].length; i++) {
                max = Math.max(max, Math.abs((double) a[p][i] - b[p][i]));
            }
        }
        return max;
    }
}
