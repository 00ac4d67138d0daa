package io.flexq.samples.bench;

import io.flexq.plugin.eval.LlamaLogits;
import io.flexq.plugin.eval.LogitModel;
import io.flexq.plugin.eval.QualityAccumulator;
import io.flexq.plugin.eval.Windows;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The loop of {@code Evaluator.run} for several candidates at once: every window of one text runs the reference once
 * and each candidate once, their next-token distributions scored against the reference's on the window's scored
 * positions. The comparison tools share it; {@code checkpoint} is called every {@code every} windows (0: never) and
 * after the last, so a long run shows its way.
 */
final class WindowedScore {

    /** Called with the windows done, the reference's accumulator, one per candidate, and whether more windows follow. */
    interface Checkpoint {
        void at(int windows, QualityAccumulator reference, List<QualityAccumulator> candidates, boolean partial) throws Exception;
    }

    private WindowedScore() {
    }

    static void run(String text, Windows w, LogitModel reference, List<LlamaLogits> candidates, int every, Checkpoint checkpoint)
            throws Exception {
        int vocab = reference.vocabSize();
        int first = w.firstScored();
        int scored = w.scoredPerWindow();
        float[][] refRows = new float[scored][vocab];
        QualityAccumulator refAcc = new QualityAccumulator();
        List<QualityAccumulator> accs = new ArrayList<>();
        candidates.forEach(c -> accs.add(new QualityAccumulator()));
        for (int win = 0; win < w.count(); win++) {
            int[] input = w.input(win);
            int window = win;
            reference.forward(input, first, (p, rl) -> {
                if (p < first + scored) {
                    System.arraycopy(rl, 0, refRows[p - first], 0, vocab);
                    refAcc.add(rl, null, vocab, w.target(window, p));
                }
            });
            for (int c = 0; c < candidates.size(); c++) {
                QualityAccumulator acc = accs.get(c);
                candidates.get(c).forward(input, first, (p, l) -> {
                    if (p < first + scored) {
                        acc.add(l, refRows[p - first], vocab, w.target(window, p));
                    }
                });
            }
            System.err.printf(Locale.ROOT, "\r%s %d/%d", text, win + 1, w.count());
            boolean last = win + 1 == w.count();
            if (last || (every > 0 && (win + 1) % every == 0)) {
                checkpoint.at(win + 1, refAcc, accs, !last);
            }
        }
        System.err.println();
    }
}
