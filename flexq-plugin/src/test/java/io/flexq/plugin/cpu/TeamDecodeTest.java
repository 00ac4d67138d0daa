package io.flexq.plugin.cpu;

import io.flexq.plugin.quant.ActivationMode;
import io.flexq.plugin.quant.ActivationQuantizer;
import io.flexq.plugin.quant.FlexqWeights;
import io.flexq.plugin.quant.QuantizedActivations;
import io.flexq.runtime.cpu.PoolLease;
import io.flexq.runtime.cpu.SpinTeam;
import io.flexq.runtime.spi.WeightBackend;
import io.flexq.runtime.spi.WeightMatrix;
import io.flexq.runtime.spi.WeightSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FQ6 matmuls (one token, and a prompt) on a lease's spinning team: bit-identical to {@link IntegerReference} on every
 * kernel path (the team runs the fork-join split's chunks), and a run's thread count reaches flexq-cpu through
 * {@link WeightBackend#withThreads} (before, {@code bench --threads 1} left FQ6 matrices on every processor).
 */
class TeamDecodeTest {

    static final long SEED = 0x7EA6L;

    @Test
    void oneTokenOnTheTeamEqualsTheReferenceOnEveryPath() {
        onTheTeamEqualsTheReference(1, 4);
    }

    /**
     * A prompt runs on the team too, its activations quantized there in token ranges (37 tokens: more ranges than
     * threads, not a multiple of 4), read in place from a shared arena or from a heap copy of a confined one.
     */
    @Test
    void aPromptOnTheTeamEqualsTheReferenceOnEveryPath() {
        onTheTeamEqualsTheReference(37, 2);
    }

    /**
     * A long prompt over few rows on many threads: the row chunks are also split into token ranges
     * ({@link RowParallel#forTasksAndTokens}; 301 tokens, ragged last range). Same bits as the reference.
     */
    @Test
    void aLongPromptSplitByTokensEqualsTheReferenceOnEveryPath() {
        onTheTeamEqualsTheReference(301, 2, 8, 150, 400);
    }

    private static void onTheTeamEqualsTheReference(int tokens, int trials) {
        onTheTeamEqualsTheReference(tokens, trials, 3, 2000, 1000);
    }

    private static void onTheTeamEqualsTheReference(int tokens, int trials, int threads, int minRows, int minCols) {
        Random rnd = new Random(SEED + tokens);
        PoolLease lease = PoolLease.owned(threads, true);
        for (int trial = 0; trial < trials; trial++) {
            // big enough to be split (more than 2^18 multiply-adds after the native speed-up), ragged rows and columns
            int rows = minRows + rnd.nextInt(100), cols = minCols + rnd.nextInt(300);
            ActivationMode mode = trial % 2 == 0 ? ActivationMode.A8 : ActivationMode.A6;
            FlexqWeights w = TestData.weights(rnd, rows, cols);
            float[] x = TestData.activations(rnd, tokens, cols);
            QuantizedActivations a = ActivationQuantizer.quantize(x, tokens, cols, mode);
            float[] want = IntegerReference.matmul(w, a);
            for (NativeFq6.Level level : KernelPathsTest.levels()) {
                String ctx = "seed " + (SEED + tokens) + ", trial " + trial + ": " + rows + " x " + cols + " x " + tokens
                        + " tokens, " + mode + ", path " + level;
                FlexqCpuMatrix m = new FlexqCpuMatrix("w", w, () -> w, mode, lease.acquire(), level);
                try (Arena arena = trial % 2 == 0 ? Arena.ofConfined() : Arena.ofShared()) {
                    float[] got = FastPathTest.run(m, FastPathTest.batch(arena, x, tokens, cols));
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                ctx + ", token " + i / rows + " row " + i % rows + " (" + arenaName(trial) + " arena)");
                    }
                } finally {
                    m.close();
                }
            }
        }
    }

    /** The chunks of a rows x tokens split cover every (task, token) exactly once, token ranges starting at multiples of 4. */
    @Test
    void rowAndTokenChunksPartitionTheProduct() {
        int[][] cases = {{32, 512, 16}, {16, 301, 8}, {7, 1000, 4}, {96, 512, 16}, {3, 130, 16}, {40, 100, 16}};
        for (int[] c : cases) {
            int tasks = c[0], tokens = c[1], threads = c[2];
            int[] seen = new int[tasks * tokens];
            java.util.Set<String> bad = java.util.concurrent.ConcurrentHashMap.newKeySet();
            try (SpinTeam team = new SpinTeam(threads, SpinTeam.DEFAULT_SPIN_NANOS)) {
                RowParallel.forTasksAndTokens(team, tasks, tokens, 1L << 20, 2, (from, to, t0, t1) -> {
                    if (t0 % 4 != 0 || t0 >= t1 || from >= to) {
                        bad.add("[" + from + ", " + to + ") x [" + t0 + ", " + t1 + ")");
                    }
                    for (int b = from; b < to; b++) {
                        for (int t = t0; t < t1; t++) {
                            synchronized (seen) {
                                seen[b * tokens + t]++;
                            }
                        }
                    }
                });
            }
            String ctx = tasks + " tasks x " + tokens + " tokens on " + threads + " threads";
            assertTrue(bad.isEmpty(), ctx + ": bad chunks " + bad);
            for (int i = 0; i < seen.length; i++) {
                assertEquals(1, seen[i], ctx + ": task " + i / tokens + " token " + i % tokens);
            }
        }
    }

    private static String arenaName(int trial) {
        return trial % 2 == 0 ? "confined" : "shared";
    }

    @Test
    void theRunsThreadCountReachesFlexqCpu() {
        WeightBackend one = new FlexqCpuBackend().withThreads(PoolLease.owned(1));
        assertTrue(one.availability().reason().contains(" 1 threads"), one.availability().reason());
        MemorySegment bytes = MemorySegment.ofArray(TestData.weights(new Random(SEED), 64, 256).toFq6Bytes());
        try (WeightMatrix m = one.load(new WeightSource("w", new Fq6TensorType(), 64, 256, bytes, Map.of("flexq.act_bits.w", 8L)))) {
            assertTrue(m.describe().contains(" 1 threads"), m.describe());
            // the session runs a decode step's attention on this team: with one thread, on the caller alone
            assertEquals(1, m.decodeTeam().orElseThrow().threads());
        }
        WeightBackend three = new FlexqCpuBackend().withThreads(PoolLease.owned(3));
        assertTrue(three.availability().reason().contains(" 3 threads"), three.availability().reason());
    }

    /** Discovered backends share one lease: FQ6 and built-in matrices of a model run on one team. */
    @Test
    void discoveredBackendsShareOneTeam() {
        io.flexq.runtime.spi.Backends backends = io.flexq.runtime.spi.Backends.discover(TeamDecodeTest.class.getClassLoader(), s -> { });
        MemorySegment fq6 = MemorySegment.ofArray(TestData.weights(new Random(SEED), 64, 256).toFq6Bytes());
        MemorySegment f16 = MemorySegment.ofArray(new byte[64 * 256 * 2]);
        try (WeightMatrix a = backends.load(new WeightSource("blk.0.attn_q.weight", new Fq6TensorType(), 64, 256, fq6,
                     Map.of("flexq.act_bits.blk.0.attn_q.weight", 8L)));
             WeightMatrix b = backends.load(new WeightSource("output.weight", io.flexq.runtime.tensor.FloatTypes.F16, 64, 256, f16, Map.of()))) {
            assertTrue(a.describe().startsWith("flexq-cpu") && b.describe().startsWith("cpu "), a.describe() + " / " + b.describe());
            org.junit.jupiter.api.Assertions.assertSame(a.decodeTeam().orElseThrow(), b.decodeTeam().orElseThrow(),
                    "the FQ6 and the F16 matrix of one discovery should share their team");
        }
    }

    /** The team's workers exist while a matrix holds the lease and end when the last one closes. */
    @Test
    void teamThreadsEndWithTheLastMatrix() throws InterruptedException {
        PoolLease lease = PoolLease.owned(2, true);
        Random rnd = new Random(SEED + 1);
        FlexqWeights w = TestData.weights(rnd, 2048, 1024);
        float[] x = TestData.activations(rnd, 1, 1024);
        PoolLease.Hold hold = lease.acquire();
        SpinTeam team = hold.team();
        FlexqCpuMatrix m = new FlexqCpuMatrix("w", w, () -> w, ActivationMode.A8, hold);
        try (Arena arena = Arena.ofConfined()) {
            FastPathTest.run(m, FastPathTest.batch(arena, x, 1, 1024));
        }
        java.util.List<Thread> workers = team.workerThreads();
        assertEquals(1, workers.size(), "the matmul should have started the team's one worker");
        m.close();
        workers.getFirst().join(5_000);
        assertTrue(!workers.getFirst().isAlive(), workers.getFirst().getName() + " outlived the last matrix");
    }
}
