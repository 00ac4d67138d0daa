package io.flexq.jlama.bench;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import io.flexq.jlama.FlexqJlama;
import io.flexq.jlama.Mode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Prompt and decode tokens/s of one Jlama configuration, whole-process style (one configuration per JVM, so
 * memory is its own): {@code JlamaBench f32|q4|flexq-a8 MODEL_DIR [PROMPT_TOKENS DECODE_TOKENS REPEATS]}.
 * Prompt: one batched forward of PROMPT_TOKENS ids; decode: DECODE_TOKENS single-token forwards plus the LM
 * head (greedy), as Jlama's generate loop does. The best of REPEATS runs (after one warm-up run) is printed,
 * with resident memory (VmRSS) and Java heap in use after the model is loaded.
 */
public final class JlamaBench {

    public static void main(String[] args) throws Exception {
        String variant = args[0];
        Path dir = Path.of(args[1]);
        int prompt = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int decode = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        AbstractModel m = switch (variant) {
            case "f32" -> ModelSupport.loadModel(dir.toFile(), DType.F32, DType.F32);
            case "q4" -> ModelSupport.loadModel(dir.toFile(), DType.F32, DType.I8);          // dir: Jlama's Q4 folder
            case "flexq-a8" -> FlexqJlama.load(dir, Mode.A8);
            case "flexq-a6" -> FlexqJlama.load(dir, Mode.A6);
            case "flexq-a8-file" -> {                                                           // weights from the FQ6 GGUF beside dir
                System.setProperty(FlexqJlama.FQ6_PROPERTY, dir.resolveSibling(dir.getFileName() + "-a8.fq6.gguf").toString());
                yield FlexqJlama.load(dir, Mode.A8);
            }
            default -> throw new IllegalArgumentException("variant " + variant + ": f32 | q4 | flexq-a8 | flexq-a8-file | flexq-a6");
        };
        System.gc();
        long heap = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        long rss = rssKiB();
        int vocab = m.getConfig().vocabularySize;
        int[] ids = new int[prompt];
        for (int i = 0; i < prompt; i++) {
            ids[i] = i == 0 ? 1 : 259 + (i * 7919) % (vocab - 259);
        }
        double bestPrompt = 0, bestDecode = 0;
        for (int r = 0; r <= repeats; r++) {
            KvBufferCache cache = new KvBufferCache(m);
            try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer(); AbstractTensor logits = m.makeDenseTensor(vocab)) {
                long t0 = System.nanoTime();
                AbstractTensor h = m.batchForward(ids, 0, kv);
                int next = m.sample(h.slice(true, prompt - 1), 0f, 0f, logits);
                long t1 = System.nanoTime();
                for (int i = 0; i < decode; i++) {
                    AbstractTensor x = m.forward(next, prompt + i, kv, Optional.empty());
                    next = m.sample(x, 0f, 0f, logits);
                    x.close();
                }
                long t2 = System.nanoTime();
                if (r > 0) {
                    bestPrompt = Math.max(bestPrompt, prompt / ((t1 - t0) * 1e-9));
                    bestDecode = Math.max(bestDecode, decode / ((t2 - t1) * 1e-9));
                }
            }
            cache.close();
        }
        System.out.printf("| %s | %s | %.1f | %.1f | %d | %d |%n", variant, TensorOperationsProvider.get().name(), bestPrompt, bestDecode,
                rss / 1024, heap >> 20);
    }

    private static long rssKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
