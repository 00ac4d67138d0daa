package io.flexq.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The phase table of {@link AttentionTrace} from stamps written here by hand (no GPU needed). */
class AttentionTraceTest {

    @Test
    void phasesCountFromTheFirstBlockPastItsWaitAndAverageOverLayers() {
        int layers = 2, blocks = 3, s = AttentionTrace.STAMPS;
        long[] all = new long[layers * blocks * s];
        // layer 0: block 0 waits until 1,000 ns, block 1 until 1,500; block 1 merges (fence done at 4,600), ending 5,000; block 2 has no positions
        put(all, 0, 0, 100, 1_000, 2_000, 3_000, 4_000, 0, 0);
        put(all, 0, 1, 200, 1_500, 2_500, 3_500, 4_200, 4_600, 5_000);
        put(all, 0, 2, 300, 1_100, 0, 0, 0, 0, 0);
        // layer 1: the same shape 10 us later and every phase 1 us longer after the wait
        put(all, 1, 0, 10_100, 11_000, 13_000, 15_000, 17_000, 0, 0);
        put(all, 1, 1, 10_200, 11_500, 13_500, 15_500, 17_200, 18_000, 20_000);
        put(all, 1, 2, 10_300, 11_100, 0, 0, 0, 0, 0);
        String t = AttentionTrace.table(all, layers, blocks);
        // started: last start - first start = 0.2 us in both layers; past its wait: 0.5; scores: 1.5 and 2.5 -> 2.0;
        // partials: 2.5 and 4.5 -> 3.5; counted: 3.2 and 6.2 -> 4.7; fenced: 3.6 and 7.0 -> 5.3; merged: 4.0 and 9.0 -> 6.5
        for (String row : new String[] {"| started (from the first block's start) | 0.20 | 3 |", "| past its wait | 0.50 | 3 |",
                "| scores done | 2.00 | 2 |", "| partials to store | 3.50 | 2 |", "| counted | 4.70 | 2 |", "| merger's fence done | 5.30 | 1 |",
                "| merged | 6.50 | 1 |"}) {
            assertTrue(t.contains(row), () -> "missing " + row + " in\n" + t);
        }
        // first wait - first start: 0.9 us in both layers; layer 1's first wait 10 us after layer 0's
        assertTrue(t.contains("passed its wait 0.90 us after the first block started; layer to layer (first wait to first wait) 10.00 us"), t);
    }

    private static void put(long[] all, int layer, int block, long... stamps) {
        System.arraycopy(stamps, 0, all, (layer * 3 + block) * AttentionTrace.STAMPS, stamps.length);
    }
}
