package io.flexq.plugin.cpu.bench;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Locale;
import java.util.Random;

/**
 * What the Vector API reaches on exact int8 x int8 dot products without a dot-product instruction (it exposes
 * no VNNI / pmaddubsw / pmaddwd): one thread, weights in L1/L2 (a 64 x 1024 block of codes, rows in lanes, as the
 * FQ6 kernels lay them out), so the number is the instruction throughput, not memory. Three exact forms:
 * <ul>
 *   <li>fp32: codes widened to float (B2F), FMA with the broadcast activation (what {@code Int6Kernels} does);</li>
 *   <li>int32: codes widened to int (B2I), multiply and add in int lanes;</li>
 *   <li>int16: codes widened to short (B2S, twice the lanes), multiply in 16-bit lanes (|w a| &lt;= 2^12), four
 *   products summed in 16 bits, then split to int lanes by shifts.</li>
 * </ul>
 * Prints GMAC/s per form. Usage: {@code Int8DotRate [--seconds S]}.
 */
public final class Int8DotRate {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Byte> B1 = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 2 * L * 8)));
    private static final VectorSpecies<Short> S2 = VectorSpecies.of(short.class, VectorShape.forBitSize(2 * L * 16));
    private static final int K = 1024;

    private Int8DotRate() {
    }

    public static void main(String[] args) {
        double seconds = Double.parseDouble(Args.parse(args).getOrDefault("seconds", "1"));
        Random rnd = new Random(3);
        byte[] w = new byte[K * 2 * L]; // K codes of 2L rows, k-major
        byte[] a = new byte[K];
        float[] af = new float[K];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (rnd.nextInt(64) - 32);
        }
        for (int k = 0; k < K; k++) {
            a[k] = (byte) (rnd.nextInt(255) - 127);
            af[k] = a[k];
        }
        long want = 0;
        for (int k = 0; k < K; k++) {
            want += (long) w[k * 2 * L] * a[k];
        }
        System.out.printf(Locale.ROOT, "%s, %d float lanes; one thread, %d x %d int8 codes in cache%n", F, L, 2 * L, K);
        for (int rep = 0; rep < 3; rep++) { // the first two rounds are warm-up (the JIT), the third is printed
            boolean print = rep == 2;
            report("fp32 (B2F + FMA)", seconds, () -> fp32(w, af), want, print);
            report("int32 (B2I + mul + add)", seconds, () -> int32(w, a), want, print);
            report("int16 (B2S + mul + add, split)", seconds, () -> int16(w, a), want, print);
        }
    }

    private static void report(String name, double seconds, java.util.function.LongSupplier kernel, long want, boolean print) {
        long got = kernel.getAsLong();
        if (got != want) {
            throw new IllegalStateException(name + ": row 0 is " + got + ", expected " + want);
        }
        long calls = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                got += kernel.getAsLong();
            }
            calls += 100;
        }
        double ns = System.nanoTime() - t0;
        if (print) {
            System.out.printf(Locale.ROOT, "  %-32s %6.2f GMAC/s%s%n", name, calls * 2.0 * L * K / ns, got == 42 ? " " : "");
        }
    }

    /** Row 0's dot product (for the check); all 2L rows are computed. */
    private static long fp32(byte[] w, float[] a) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        for (int k = 0; k < K; k++) {
            FloatVector x = FloatVector.broadcast(F, a[k]);
            s0 = ((FloatVector) ByteVector.fromArray(B1, w, k * 2 * L).convertShape(VectorOperators.B2F, F, 0)).fma(x, s0);
            s1 = ((FloatVector) ByteVector.fromArray(B1, w, k * 2 * L + L).convertShape(VectorOperators.B2F, F, 0)).fma(x, s1);
        }
        return (long) s0.add(s1.mul(0f)).lane(0);
    }

    private static long int32(byte[] w, byte[] a) {
        IntVector s0 = IntVector.zero(I), s1 = s0;
        for (int k = 0; k < K; k++) {
            IntVector x = IntVector.broadcast(I, a[k]);
            s0 = s0.add(((IntVector) ByteVector.fromArray(B1, w, k * 2 * L).convertShape(VectorOperators.B2I, I, 0)).mul(x));
            s1 = s1.add(((IntVector) ByteVector.fromArray(B1, w, k * 2 * L + L).convertShape(VectorOperators.B2I, I, 0)).mul(x));
        }
        return s0.add(s1.mul(0)).lane(0);
    }

    /** Rows interleaved: row j in byte 2j for j &lt; L, so int lane 0's low short is row 0. */
    private static long int16(byte[] w, byte[] a) {
        IntVector lo = IntVector.zero(I), hi = lo;
        for (int k = 0; k < K; k += 4) {
            ShortVector m0 = widen(w, k).mul(a[k]);
            ShortVector m1 = widen(w, k + 1).mul(a[k + 1]);
            ShortVector m2 = widen(w, k + 2).mul(a[k + 2]);
            ShortVector m3 = widen(w, k + 3).mul(a[k + 3]);
            IntVector q = m0.add(m1).add(m2.add(m3)).reinterpretAsInts();
            lo = lo.add(q.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            hi = hi.add(q.lanewise(VectorOperators.ASHR, 16));
        }
        return lo.add(hi.mul(0)).lane(0);
    }

    private static ShortVector widen(byte[] w, int k) {
        return (ShortVector) ByteVector.fromArray(B2, w, k * 2 * L).convertShape(VectorOperators.B2S, S2, 0);
    }
}
