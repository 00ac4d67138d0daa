package io.flexq.plugin.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** A copy of the runtime test harness of the same name (test classes are not shared between modules).
 *
 * One edit of a seed file, the unit both fuzzers combine: the CI check ({@code FuzzCheck}) and the long run
 * ({@code FuzzStats}) draw lists of them from a seeded random, and a failing list is shrunk by dropping edits.
 * Positions are fractions of the input's length (or of its first 4 KiB, where headers live) so one edit applies
 * to any input.
 */
public record Mutation(Kind kind, double where, long value, int length) {

    public enum Kind { FLIP_BYTE, HEADER_BYTE, INT32, INT64, TRUNCATE, DUPLICATE, DELETE, JSON_TOKEN }

    /** Integers that break size and count checks: zero, one, sign bits, all ones, just past common limits. */
    static final long[] INTERESTING = {0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L,
            0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 1030, 128, 64, 32};

    static final List<String> JSON_TOKENS = List.of("{", "}", "[", "]", "\"", ",", ":", "1e999", "-1", "null", "\\u0000",
            "\\ud800", "0", "99999999999999999999", "true", "\"\\u001b[31m\"", "-0", "NaN", "[[[[[[[[[[");

    public static Mutation random(SplittableRandom rnd) {
        Kind k = Kind.values()[rnd.nextInt(Kind.values().length)];
        long v = rnd.nextInt(3) == 0 ? rnd.nextLong() : INTERESTING[rnd.nextInt(INTERESTING.length)];
        return new Mutation(k, rnd.nextDouble(), v, 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 4096 : 64));
    }

    public static byte[] applyAll(byte[] seed, List<Mutation> mutations) {
        byte[] b = seed;
        for (Mutation m : mutations) {
            b = m.apply(b);
        }
        return b;
    }

    public byte[] apply(byte[] in) {
        if (in.length == 0) {
            return in;
        }
        int at = (int) (where * in.length);
        int headerAt = (int) (where * Math.min(in.length, 4096));
        return switch (kind) {
            case FLIP_BYTE -> set(in, at, (byte) value);
            case HEADER_BYTE -> set(in, headerAt, (byte) value);
            case INT32 -> put(in, headerAt & ~3, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value).array());
            case INT64 -> put(in, headerAt & ~7, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
            case TRUNCATE -> Arrays.copyOf(in, at);
            case DUPLICATE -> {
                int n = Math.min(length, in.length - at);
                byte[] out = new byte[in.length + n];
                System.arraycopy(in, 0, out, 0, at + n);
                System.arraycopy(in, at, out, at + n, in.length - at);
                yield out;
            }
            case DELETE -> {
                int n = Math.min(length, in.length - at);
                byte[] out = new byte[in.length - n];
                System.arraycopy(in, 0, out, 0, at);
                System.arraycopy(in, at + n, out, at, in.length - at - n);
                yield out;
            }
            case JSON_TOKEN -> {
                byte[] t = JSON_TOKENS.get((int) Math.floorMod(value, (long) JSON_TOKENS.size())).getBytes(StandardCharsets.UTF_8);
                byte[] out = new byte[in.length + t.length];
                System.arraycopy(in, 0, out, 0, headerAt);
                System.arraycopy(t, 0, out, headerAt, t.length);
                System.arraycopy(in, headerAt, out, headerAt + t.length, in.length - headerAt);
                yield out;
            }
        };
    }

    private static byte[] set(byte[] in, int at, byte v) {
        byte[] out = in.clone();
        out[Math.min(at, out.length - 1)] = v;
        return out;
    }

    private static byte[] put(byte[] in, int at, byte[] v) {
        byte[] out = in.clone();
        System.arraycopy(v, 0, out, Math.min(at, out.length - Math.min(v.length, out.length)), Math.min(v.length, out.length));
        return out;
    }
}
