package io.flexq.conformance;

import io.flexq.runtime.llama.Llama;
import io.flexq.runtime.llama.LlamaSession;
import io.flexq.runtime.model.ModelFile;
import io.flexq.runtime.spi.Backends;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a whole model under one {@link BackendConfiguration}: where each matrix landed, the logits after BOS,
 * a greedy continuation, and the logits of a teacher-forced pass over a given token sequence.
 */
public final class EndToEnd {

    private EndToEnd() {
    }

    /**
     * @param placement     the runtime's description of where each matrix runs
     * @param step0         logits after BOS
     * @param greedy        greedy ids from BOS
     * @param teacherForced logits after BOS + forced[0 .. n-2], one row per step (empty if not asked)
     */
    public record Run(String model, String configuration, List<String> placement, float[] step0, int[] greedy,
                      float[][] teacherForced) {
    }

    /**
     * @param greedySteps greedy ids to generate from BOS (0 for none)
     * @param forced      a sequence to feed after BOS, logits kept per step (null for none)
     */
    public static Run run(String modelName, ModelFile file, BackendConfiguration cfg, int greedySteps, int[] forced) {
        List<String> log = new ArrayList<>();
        try (Llama model = Llama.load(file, new Backends(cfg.backends(), log::add), cfg.offloads(), log::add)) {
            int ctx = Math.max(greedySteps, forced == null ? 0 : forced.length) + 2;
            float[] step0;
            int[] greedy = new int[greedySteps];
            try (LlamaSession s = model.newSession(ctx)) {
                step0 = s.forward(new int[] {Stories260K.BOS}, 0, 1);
                float[] logits = step0;
                for (int i = 0; i < greedySteps; i++) {
                    greedy[i] = argmax(logits);
                    if (i + 1 < greedySteps) {
                        logits = s.forward(new int[] {greedy[i]}, 0, 1);
                    }
                }
            }
            float[][] tf = new float[0][];
            if (forced != null) {
                int[] seq = new int[forced.length];
                seq[0] = Stories260K.BOS;
                System.arraycopy(forced, 0, seq, 1, forced.length - 1);
                try (LlamaSession s = model.newSession(ctx)) {
                    tf = s.forwardAll(seq, 0, seq.length);
                }
            }
            return new Run(modelName, cfg.name(), model.describe(), step0, greedy, tf);
        }
    }

    public static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Ids of the {@code k} largest logits, largest first. */
    public static int[] topK(float[] logits, int k) {
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        return Arrays.stream(order, 0, k).mapToInt(Integer::intValue).toArray();
    }

    /** Problems with the step-0 logits against the published top-5 and mean, each value within {@code tol}. */
    public static List<String> checkTop5(float[] step0, double tol) {
        List<String> problems = new ArrayList<>();
        int[] top = topK(step0, 5);
        for (int i = 0; i < 5; i++) {
            if (top[i] != Stories260K.TOP5_IDS[i]) {
                problems.add("rank " + i + ": id " + top[i] + " (logit " + step0[top[i]] + "), published " + Stories260K.TOP5_IDS[i]);
            }
            double got = step0[Stories260K.TOP5_IDS[i]];
            if (!(Math.abs(got - Stories260K.TOP5_LOGITS[i]) <= tol)) {
                problems.add(String.format("logit of %d = %.5f, published %.5f, |diff| %.2g > %.2g",
                        Stories260K.TOP5_IDS[i], got, Stories260K.TOP5_LOGITS[i], Math.abs(got - Stories260K.TOP5_LOGITS[i]), tol));
            }
        }
        double mean = 0;
        for (float f : step0) {
            mean += f;
        }
        mean /= step0.length;
        if (!(Math.abs(mean - Stories260K.MEAN_LOGIT) <= tol)) {
            problems.add(String.format("mean logit %.5f, published %.5f", mean, Stories260K.MEAN_LOGIT));
        }
        return problems;
    }

    /** Largest |step0 - published| over the top-5 ids. */
    public static double top5Deviation(float[] step0) {
        double d = 0;
        for (int i = 0; i < 5; i++) {
            d = Math.max(d, Math.abs(step0[Stories260K.TOP5_IDS[i]] - Stories260K.TOP5_LOGITS[i]));
        }
        return d;
    }

    /** The first step where {@code got} differs from {@code want}, or -1 when the first {@code n} agree. */
    public static int firstMismatch(int[] got, int[] want, int n) {
        for (int i = 0; i < n; i++) {
            if (got[i] != want[i]) {
                return i;
            }
        }
        return -1;
    }

    /** Share of teacher-forced steps whose argmax equals the reference id of that step. */
    public static double top1Agreement(float[][] teacherForced, int[] ids) {
        int same = 0;
        for (int i = 0; i < teacherForced.length; i++) {
            if (argmax(teacherForced[i]) == ids[i]) {
                same++;
            }
        }
        return (double) same / teacherForced.length;
    }

    /** Largest |a - b| over every step and logit. */
    public static double maxDifference(float[][] a, float[][] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                d = Math.max(d, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return d;
    }
}
