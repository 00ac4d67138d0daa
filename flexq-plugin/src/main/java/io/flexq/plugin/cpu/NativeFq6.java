package io.flexq.plugin.cpu;

import io.flexq.runtime.cpu.NativeLibrary;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native FQ6 kernel library ({@code src/main/c/fq6_cpu.c}, built by {@code tools/build-native.sh} into the jar as
 * {@code native/linux-x86_64/libflexq_cpu.so}) through the FFM API, or the reason it cannot run here. One
 * instance per process is enough, but nothing stops a test from making its own ({@link #load(boolean)}).
 *
 * <p>The downcall is {@code critical} with heap access: the activation codes, scales and outputs are passed as
 * heap segments without copying, and a matmul slice is short (microseconds to a few milliseconds), so holding
 * off the GC for its length is harmless.
 *
 * <p>{@code -Dflexq.cpu.native=false} forces the Vector API path (for A/B runs and tests).
 */
public final class NativeFq6 {

    /**
     * What the library can run on this CPU (fq6_cpu_level). AVX512_VBMI keeps the weights packed at 6 bits (0.75 bytes a
     * weight resident, widened in registers); the other levels keep a byte per weight.
     */
    public enum Level {
        NONE, AVX2, AVX512_VNNI, AVX512_VBMI
    }

    static final String LIBRARY = "libflexq_cpu";
    static final String RESOURCE = "/native/linux-x86_64/" + LIBRARY + ".so";
    static final String PROPERTY = NativeLibrary.PROPERTY;

    private static volatile NativeFq6 shared;

    private final MethodHandle gemm;
    private final MethodHandle quantize;
    private final Level level;
    private final String why;

    private NativeFq6(MethodHandle gemm, Level level, String why) {
        this(gemm, null, level, why);
    }

    private NativeFq6(MethodHandle gemm, MethodHandle quantize, Level level, String why) {
        this.gemm = gemm;
        this.quantize = quantize;
        this.level = level;
        this.why = why;
    }

    /** The process-wide instance (loaded on first use), honouring {@code -Dflexq.cpu.native}. */
    public static NativeFq6 get() {
        NativeFq6 n = shared;
        if (n == null) {
            synchronized (NativeFq6.class) {
                n = shared;
                if (n == null) {
                    n = load(!"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true")));
                    shared = n;
                }
            }
        }
        return n;
    }

    /** Loads the library ({@code wanted} false: an instance that says it was turned off). Never throws. */
    static NativeFq6 load(boolean wanted) {
        if (!wanted) {
            return new NativeFq6(null, Level.NONE, "turned off (-D" + PROPERTY + "=false)");
        }
        return Bound.LOADED;
    }

    /**
     * The hot downcall handles as constants for the JIT: the components of a record behind a static final field are
     * trusted as constants, so a compiled caller links straight to the native stub. Read from an instance's plain final
     * fields (not constants to the JIT), every call went through a chain of method-handle adapters, interpreted until
     * they were compiled: about 20 us per quantization in the first decode steps of a run, against 2 us later.
     */
    private record Hot(MethodHandle gemm, MethodHandle quantize) {
    }

    /** The library, bound once on first use (the only instance whose handles are not null). */
    private static final class Bound {
        static final NativeFq6 LOADED = bind();
        static final Hot HOT = new Hot(LOADED.gemm, LOADED.quantize);
    }

    private static NativeFq6 bind() {
        NativeLibrary lib = NativeLibrary.open(LIBRARY, NativeFq6.class);
        if (lib.lookup().isEmpty()) {
            return new NativeFq6(null, Level.NONE, lib.why());
        }
        try {
            SymbolLookup symbols = lib.lookup().get();
            Linker linker = Linker.nativeLinker();
            MethodHandle levelFn = linker.downcallHandle(symbols.findOrThrow("fq6_cpu_level"), FunctionDescriptor.of(JAVA_INT));
            MethodHandle gemm = linker.downcallHandle(symbols.findOrThrow("fq6_gemm_sums"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                            JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
                    Linker.Option.critical(true));
            MethodHandle quantize = linker.downcallHandle(symbols.findOrThrow("fq6_quantize_sums"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                    Linker.Option.critical(true));
            int lv = (int) levelFn.invokeExact();
            Level level = Level.values()[Math.max(0, Math.min(lv, Level.values().length - 1))];
            Level cap = cap();
            if (cap != null && cap.compareTo(level) < 0) {
                level = cap;
            }
            String why = level == Level.NONE ? "this CPU has neither AVX2 nor AVX-512 VNNI" : "native " + level
                    + (cap != null && cap == level ? " (capped by -D" + LEVEL_PROPERTY + ")" : "");
            return new NativeFq6(level == Level.NONE ? null : gemm, level.compareTo(Level.AVX512_VNNI) >= 0 ? quantize : null, level, why);
        } catch (Throwable e) {
            return new NativeFq6(null, Level.NONE, "could not bind " + LIBRARY + ": " + e);
        }
    }

    /** {@code -Dflexq.cpu.nativeLevel=AVX2|AVX512_VNNI|...}: the highest level to use (A/B runs); unset: what the CPU has. */
    static final String LEVEL_PROPERTY = "flexq.cpu.nativeLevel";

    private static Level cap() {
        String v = System.getProperty(LEVEL_PROPERTY);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Level.valueOf(v.strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + LEVEL_PROPERTY + "=" + v + ": expected one of " + java.util.Arrays.toString(Level.values()));
        }
    }

    /** True when {@link #gemm} can run. */
    public boolean available() {
        return gemm != null;
    }

    /** True when {@link #quantize} runs (AVX-512). */
    public boolean quantizes() {
        return quantize != null;
    }

    /**
     * The activation quantizer of docs/FQ6.md section 3, bit for bit (see fq6_cpu.c): {@code tokens} rows of
     * {@code cols} floats of {@code x} into {@code codes} (rows of the padded width, zero padding) and {@code scales}.
     */
    void quantize(float[] x, int tokens, int cols, int qmax, byte[] codes, float[] scales) {
        if ((long) tokens * cols > x.length) {
            throw new IllegalArgumentException("native quantizer: " + tokens + " x " + cols + " does not fit the arrays");
        }
        quantize(MemorySegment.ofArray(x), 0, tokens, cols, qmax, codes, scales, null);
    }

    /**
     * As above for tokens [t0, t1) only: rows t of x (floats at {@code 4 * t * cols}), codes and scales (each token is
     * quantized alone, so token ranges on several threads give the bits of one call); {@code sums} (or null): each
     * (token, group)'s sum of codes at {@code t * groups + g}, which {@link #gemm} then need not compute again.
     */
    void quantize(MemorySegment x, int t0, int t1, int cols, int qmax, byte[] codes, float[] scales, int[] sums) {
        int groups = Math.ceilDiv(cols, 128);
        if (t0 < 0 || t0 > t1 || 4L * t1 * cols > x.byteSize() || (long) t1 * groups * 128 > codes.length || (long) t1 * groups > scales.length
                || (sums != null && (long) t1 * groups > sums.length)) {
            throw new IllegalArgumentException("native quantizer: tokens [" + t0 + ", " + t1 + ") x " + cols + " do not fit the arrays");
        }
        if (quantize == null) {
            throw new IllegalStateException("native fq6_quantize_sums cannot run: " + why);
        }
        MemorySegment sumsOut = sums == null ? MemorySegment.NULL : MemorySegment.ofArray(sums).asSlice(4L * t0 * groups);
        int rc;
        try {
            rc = (int) Bound.HOT.quantize().invokeExact(x.asSlice(4L * t0 * cols), t1 - t0, cols, qmax,
                    MemorySegment.ofArray(codes).asSlice((long) t0 * groups * 128), MemorySegment.ofArray(scales).asSlice(4L * t0 * groups),
                    sumsOut);
        } catch (Throwable e) {
            throw new IllegalStateException("native fq6_quantize_sums failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native fq6_quantize_sums returned " + rc);
        }
    }

    public Level level() {
        return level;
    }

    /** Why the native path runs or not, for one log line. */
    public String why() {
        return why;
    }

    /**
     * fq6_gemm_sums (see the C file): rows of blocks [bfrom, bto) for every token, outputs of rows [lo, hi) at
     * {@code y + 4 * (t * ystride + r - lo)}; sums (the codes' group sums) and partials may be {@link MemorySegment#NULL}.
     */
    void gemm(MemorySegment w, MemorySegment sw, int groups, int bfrom, int bto, MemorySegment a, MemorySegment sa,
              MemorySegment sums, int tokens, int padded, MemorySegment y, long ystride, int lo, int hi, int rows,
              MemorySegment partials, Level at) {
        if (gemm == null) {
            throw new IllegalStateException("native fq6_gemm cannot run: " + why);
        }
        int rc;
        try {
            rc = (int) Bound.HOT.gemm().invokeExact(w, sw, groups, bfrom, bto, a, sa, sums, tokens, padded, y, ystride, lo, hi,
                    rows, partials, at.ordinal());
        } catch (Throwable e) {
            throw new IllegalStateException("native fq6_gemm failed", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("native fq6_gemm returned " + rc + " (level " + at + ", "
                    + (rc == -1 ? "not supported by this CPU" : "out of memory") + ")");
        }
    }
}
