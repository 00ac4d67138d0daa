package io.flexq.runtime.cpu;

import io.flexq.runtime.spi.ActivationBatch;
import io.flexq.runtime.spi.TensorType;
import io.flexq.runtime.tensor.BuiltinTypes;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Matmuls on a lease's {@link SpinTeam}, one token (a decode step) and a prompt batch (the fp32 GEMM, or Q8_0's 8-bit
 * activations quantized in token ranges on the team): every built-in type gives the same bits as on the fork-join
 * pool and on one thread (the team runs the same row chunks), within the float64 bound of {@link KernelCheck}, for
 * row counts that are not multiples of the 16-row block.
 */
class TeamMatmulTest {

    static final long SEED = 0x7EA5L;

    @Test
    void oneTokenOnTheTeamEqualsForkJoinAndOneThreadBitForBitForEveryType() {
        sameBitsOnTeamPoolAndOneThread(1);
    }

    /** 37 tokens: over {@link SpinTeam}'s chunk count for the activation quantizer, not a multiple of 4 or 16. */
    @Test
    void aPromptOnTheTeamEqualsForkJoinAndOneThreadBitForBitForEveryType() {
        sameBitsOnTeamPoolAndOneThread(37);
    }

    private static void sameBitsOnTeamPoolAndOneThread(int tokens) {
        Random rnd = new Random(SEED + tokens);
        PoolLease team = PoolLease.owned(3, true), forkJoin = PoolLease.owned(3, false), one = PoolLease.owned(1, true);
        List<String> failures = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (TensorType type : BuiltinTypes.all()) {
                for (int rows : new int[]{1000, 515}) {
                    int cols = type.blockSize() == 1 ? 515 : Math.max(type.blockSize(), 512 / type.blockSize() * type.blockSize());
                    KernelCheck.Case c = KernelCheck.Case.random(type, rows, cols, rnd);
                    java.lang.foreign.MemorySegment w = c.segment(arena, true);
                    CpuMatrix onTeam = new CpuBackend(team).load("w", type, rows, cols, w);
                    CpuMatrix onPool = new CpuBackend(forkJoin).load("w", type, rows, cols, w);
                    CpuMatrix onOne = new CpuBackend(one).load("w", type, rows, cols, w);
                    // a shared batch (the team reads it in place) and a confined one (staged through heap copies)
                    for (Arena where : new Arena[]{arena, Arena.ofConfined()}) {
                        // each matrix quantizes its own copy of the input (a derived form is computed once per batch)
                        ActivationBatch in = KernelCheck.randomBatch(where, tokens, cols, rnd);
                        ActivationBatch in2 = copy(where, in), in3 = copy(where, in);
                        ActivationBatch a = ActivationBatch.allocate(where, tokens, rows);
                        ActivationBatch b = ActivationBatch.allocate(where, tokens, rows);
                        ActivationBatch s = ActivationBatch.allocate(where, tokens, rows);
                        onTeam.matmul(in, a);
                        onPool.matmul(in2, b);
                        onOne.matmul(in3, s);
                        String what = type.name() + " " + rows + "x" + cols + " x " + tokens + " tokens";
                        failures.addAll(KernelCheck.compare(c, in, a, "team " + what));
                        for (int t = 0; t < tokens; t++) {
                            for (int r = 0; r < rows; r++) {
                                int ta = Float.floatToRawIntBits(a.get(t, r));
                                if ((ta != Float.floatToRawIntBits(b.get(t, r)) || ta != Float.floatToRawIntBits(s.get(t, r)))
                                        && failures.size() < 10) {
                                    failures.add(what + " token " + t + " row " + r + ": team " + a.get(t, r) + ", fork-join "
                                            + b.get(t, r) + ", one thread " + s.get(t, r));
                                }
                            }
                        }
                        if (where != arena) {
                            where.close();
                        }
                    }
                    assertNotNull(teamOf(onTeam), "an owned lease of 3 threads should give its matrices a team");
                    assertFalse(teamOf(onTeam).workerThreads().isEmpty(), what(type, rows, cols) + ": the team never ran a job");
                    assertNull(teamOf(onPool));
                    onTeam.close();
                    onPool.close();
                    onOne.close();
                }
            }
        }
        assertTrue(failures.isEmpty(), "seed " + SEED + ": " + failures);
    }

    private static ActivationBatch copy(Arena arena, ActivationBatch in) {
        ActivationBatch c = ActivationBatch.allocate(arena, in.tokens(), in.dim());
        c.data().copyFrom(in.data());
        c.changed();
        return c;
    }

    @Test
    void chunkBoundsAreTheForkJoinLeavesOnRowBlocks() {
        for (int rows : new int[]{1, 15, 16, 17, 100, 515, 1000, 4096}) {
            for (int grain : new int[]{16, 32, 48, 256, 4096}) {
                int[] b = CpuMatrix.chunkBounds(rows, grain);
                assertEquals(0, b[0]);
                assertEquals(rows, b[b.length - 1]);
                for (int i = 1; i < b.length; i++) {
                    assertTrue(b[i] > b[i - 1], rows + " rows, grain " + grain + ": empty chunk at " + i);
                    assertTrue(b[i] == rows || b[i] % CpuMatrix.ROW_BLOCK == 0, rows + " rows, grain " + grain + ": bound " + b[i]);
                    assertTrue(b[i] - b[i - 1] <= Math.max(grain, CpuMatrix.ROW_BLOCK) || b[i] - b[i - 1] < 2 * CpuMatrix.ROW_BLOCK,
                            rows + " rows, grain " + grain + ": chunk of " + (b[i] - b[i - 1]));
                }
            }
        }
    }

    @Test
    void forkJoinIsChosenByTheProperty() {
        String old = System.getProperty("flexq.cpu.pool");
        try {
            System.setProperty("flexq.cpu.pool", "forkjoin");
            assertFalse(PoolLease.decodeOnTeam());
            System.setProperty("flexq.cpu.pool", "spin");
            assertTrue(PoolLease.decodeOnTeam());
            System.setProperty("flexq.cpu.pool", "threads");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, PoolLease::decodeOnTeam);
            assertTrue(e.getMessage().contains("-Dflexq.cpu.pool=threads"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("flexq.cpu.pool");
            } else {
                System.setProperty("flexq.cpu.pool", old);
            }
        }
    }

    private static String what(TensorType type, int rows, int cols) {
        return type.name() + " " + rows + "x" + cols;
    }

    private static SpinTeam teamOf(CpuMatrix m) {
        return m.decodeTeam().orElse(null);
    }
}
