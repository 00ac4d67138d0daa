package io.flexq.runtime.llama;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Wall time of each stage of the CPU prompt forward (batches of at least two tokens), summed over every prompt of
 * the process while {@code -D}{@value #PROPERTY}{@code =true}: where a prompt's time goes, and which stage stops
 * scaling as threads are added (a stage's time is its wall time on the driving thread, so a stage that waits for
 * one busy thread shows as long). Off by default: then {@link #lap} is a field test.
 */
public final class PromptProfile {

    /** System property that turns the profile on. */
    public static final String PROPERTY = "flexq.cpu.profile";

    /** The stages in the order a block runs them. */
    public enum Stage {
        EMBED_ROPE("embedding rows, RoPE angles"),
        NORM("RMSNorm (attention and FFN inputs, residual add)"),
        QKV("q, k, v matmuls (activation quantization included)"),
        ROTATE_CACHE("q/k copies, RoPE, KV cache writes"),
        ATTENTION("attention"),
        WO("output projection"),
        GATE_UP("gate and up matmuls"),
        SWIGLU("SwiGLU"),
        DOWN("down matmul and residual add"),
        HEAD("final norm and output head");

        final String what;

        Stage(String what) {
            this.what = what;
        }
    }

    static final boolean ON = Boolean.getBoolean(PROPERTY);
    private static final AtomicLongArray NANOS = new AtomicLongArray(Stage.values().length);
    private static final java.util.concurrent.atomic.AtomicLong PROMPTS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong TOKENS = new java.util.concurrent.atomic.AtomicLong();

    private long last;

    private PromptProfile() {
    }

    /** A clock for one prompt chunk of n tokens, or null when the profile is off or n is a decode step. */
    static PromptProfile start(int n) {
        if (!ON || n < 2) {
            return null;
        }
        PROMPTS.incrementAndGet();
        TOKENS.addAndGet(n);
        PromptProfile p = new PromptProfile();
        p.last = System.nanoTime();
        return p;
    }

    /** Charges the time since the previous lap to {@code stage}. */
    void lap(Stage stage) {
        long now = System.nanoTime();
        NANOS.addAndGet(stage.ordinal(), now - last);
        last = now;
    }

    /** Whether the profile is on in this process. */
    public static boolean enabled() {
        return ON;
    }

    /** Forgets what was summed so far (a benchmark's warm-up passes). */
    public static void reset() {
        for (int i = 0; i < NANOS.length(); i++) {
            NANOS.set(i, 0);
        }
        PROMPTS.set(0);
        TOKENS.set(0);
    }

    /** The stages as a Markdown table: milliseconds per prompt and share of the summed time. */
    public static String table() {
        long prompts = PROMPTS.get();
        long total = 0;
        for (int i = 0; i < NANOS.length(); i++) {
            total += NANOS.get(i);
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "| prompt stage (%d prompt chunks, %d tokens) | ms per chunk | share |%n|---|---:|---:|%n", prompts, TOKENS.get()));
        for (Stage st : Stage.values()) {
            long ns = NANOS.get(st.ordinal());
            s.append(String.format(Locale.ROOT, "| %s | %.3f | %.1f%% |%n", st.what,
                    prompts == 0 ? 0.0 : ns / 1e6 / prompts, total == 0 ? 0.0 : 100.0 * ns / total));
        }
        s.append(String.format(Locale.ROOT, "| total | %.3f | 100%% |%n", prompts == 0 ? 0.0 : total / 1e6 / prompts));
        return s.toString();
    }
}
