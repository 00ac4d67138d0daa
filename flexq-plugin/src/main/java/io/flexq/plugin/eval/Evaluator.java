package io.flexq.plugin.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Scores one or more models against an optional reference on the same windows. Per window the reference
 * runs once and its scored logits are kept (ctx/2 x vocab floats), then every candidate runs and is
 * compared position by position, so a whole quality table costs one reference pass.
 */
public final class Evaluator {

    private Evaluator() {
    }

    /** The result: the reference's own quality (null without reference) and one per candidate, in order. */
    public record Result(Quality reference, List<Quality> candidates) {
    }

    /**
     * @param reference  the model others are compared with, or null (then only perplexity is measured)
     * @param candidates models to score
     * @param afterWindow called with the number of windows done after each window (for progress)
     */
    public static Result run(Windows windows, LogitModel reference, List<? extends LogitModel> candidates, IntConsumer afterWindow) {
        int vocab = -1;
        for (LogitModel m : candidates) {
            vocab = checkVocab(vocab, m);
        }
        if (reference != null) {
            vocab = checkVocab(vocab, reference);
        }
        int first = windows.firstScored();
        int scored = windows.scoredPerWindow();
        float[][] refLogits = reference == null ? null : new float[scored][vocab];
        QualityAccumulator refAcc = reference == null ? null : new QualityAccumulator();
        List<QualityAccumulator> accs = new ArrayList<>();
        candidates.forEach(c -> accs.add(new QualityAccumulator()));
        int v = vocab;
        for (int w = 0; w < windows.count(); w++) {
            int[] input = windows.input(w);
            int window = w;
            if (reference != null) {
                reference.forward(input, first, (p, logits) -> {
                    if (p < first + scored) {
                        System.arraycopy(logits, 0, refLogits[p - first], 0, v);
                        refAcc.add(logits, null, v, windows.target(window, p));
                    }
                });
            }
            for (int c = 0; c < candidates.size(); c++) {
                QualityAccumulator acc = accs.get(c);
                candidates.get(c).forward(input, first, (p, logits) -> {
                    if (p < first + scored) {
                        acc.add(logits, refLogits == null ? null : refLogits[p - first], v, windows.target(window, p));
                    }
                });
            }
            if (afterWindow != null) {
                afterWindow.accept(w + 1);
            }
        }
        return new Result(refAcc == null ? null : refAcc.result(), accs.stream().map(QualityAccumulator::result).toList());
    }

    private static int checkVocab(int vocab, LogitModel m) {
        if (vocab >= 0 && m.vocabSize() != vocab) {
            throw new IllegalArgumentException("models disagree on vocabulary size: " + vocab + " vs " + m.vocabSize()
                    + "; KLD needs the same tokenizer");
        }
        return m.vocabSize();
    }
}
