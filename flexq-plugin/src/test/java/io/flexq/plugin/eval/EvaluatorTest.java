package io.flexq.plugin.eval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class EvaluatorTest {

    @Test
    void windowsFollowLlamaPerplexityProtocol() {
        int[] tokens = new int[3 * 8 + 5];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 100 + i;
        Windows w = Windows.of(tokens, 8, 0, 1);
        assertEquals(3, w.count());
        assertArrayEquals(new int[]{1, 109, 110, 111, 112, 113, 114, 115}, w.input(1));
        assertEquals(4, w.firstScored());
        assertEquals(3, w.scoredPerWindow());
        assertEquals(100 + 8 + 4 + 1, w.target(1, 4));
        assertEquals(255, Windows.of(new int[1024], 512, 0, 1).scoredPerWindow());
        assertEquals(1, Windows.of(tokens, 8, 1, 1).count());
    }

    /** A model whose logits depend only on the previous token: logit[prev+1 mod V] = boost, others 0. */
    record BigramModel(int vocab, float boost, List<Integer> seenFrom) implements LogitModel {
        public int vocabSize() { return vocab; }
        public void forward(int[] tokens, int from, LogitSink sink) {
            seenFrom.add(from);
            float[] l = new float[vocab];
            for (int p = from; p < tokens.length; p++) {
                java.util.Arrays.fill(l, 0f);
                l[(tokens[p] + 1) % vocab] = boost;
                sink.accept(p, l);
            }
        }
    }

    @Test
    void scoresOnlySecondHalfAndComparesWithReference() {
        int vocab = 5;
        int ctx = 8;
        int[] tokens = new int[2 * ctx];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i % vocab; // next token is always prev+1 mod 5
        Windows w = Windows.of(tokens, ctx, 0, 0);
        List<Integer> froms = new ArrayList<>();
        BigramModel ref = new BigramModel(vocab, 2f, froms);
        BigramModel same = new BigramModel(vocab, 2f, froms);
        BigramModel flat = new BigramModel(vocab, 0f, froms);
        Evaluator.Result r = Evaluator.run(w, ref, List.of(same, flat), null);
        // every scored target is the boosted token: p = e^2 / (e^2 + 4)
        double pTarget = Math.exp(2) / (Math.exp(2) + 4);
        assertEquals(1 / pTarget, r.reference().ppl(), 1e-6);
        assertEquals(2 * 3, r.reference().tokens());
        assertEquals(0.0, r.candidates().get(0).kldMean(), 1e-12);
        assertEquals(1.0, r.candidates().get(0).top1(), 0.0);
        // flat model: uniform q = 1/5; PPL 5; KL(p || uniform) = ln 5 - H(p)
        double pOther = 1 / (Math.exp(2) + 4);
        double entropy = -(pTarget * Math.log(pTarget) + 4 * pOther * Math.log(pOther));
        assertEquals(5.0, r.candidates().get(1).ppl(), 1e-6);
        assertEquals(Math.log(5) - entropy, r.candidates().get(1).kldMean(), 1e-6);
        assertEquals(Math.log(5) - entropy, r.candidates().get(1).kldP99(), 1e-6);
        // a uniform distribution's argmax is token 0; it matches the reference only where the target is 0
        long zeros = 0;
        for (int win = 0; win < 2; win++) for (int j = 4; j < 7; j++) if (w.target(win, j) == 0) zeros++;
        assertEquals(zeros / 6.0, r.candidates().get(1).top1(), 1e-12);
        froms.forEach(f -> assertEquals(ctx / 2, f));
    }
}
