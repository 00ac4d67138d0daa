package io.flexq.runtime.tokenizer;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds which parts of a vocabulary piece are themselves pieces, in time linear in the vocabulary's code
 * points. Building a tokenizer asks this for every split of every piece; building a substring and hashing it
 * per split made that quadratic in a piece's length (issue 11: a 1,000,000-character piece hung the load).
 *
 * <p>Each piece is indexed under its length and its polynomial hash {@code sum cp_i * r^(n-1-i) mod 2^61-1}
 * with a base r drawn at random per index, so the hash of any part of a piece comes in O(1) from its prefix
 * hashes, and a lookup is made only for part lengths that some piece has. Parts are matched by length and
 * hash, not by comparing code points: two different texts of length n share a hash with probability at most
 * n / 2^61 over the choice of r (their difference is a nonzero polynomial of degree below n in r). A union bound
 * over every lookup and every piece of the looked-up length puts the chance of any false match while building a
 * vocabulary of T code points below T^2 / 2^61: under 5e-5 for the 10^7 code points of a 10 MB vocabulary.
 */
final class PieceIndex {

    private static final long MOD = (1L << 61) - 1;

    private final long base;
    private final long[] powers;      // r^k mod MOD for k in 0..maxLength
    private final boolean[] lengths;  // lengths[n]: some piece has n code points
    private final long[] hashes;      // open addressing, keyed by (hash, length)
    private final int[] lens;
    private final int[] ids;
    private final int mask;

    /** @param pieces code points per id, null for ids that are not indexed; the first id of equal texts wins */
    PieceIndex(int[][] pieces) {
        base = ThreadLocalRandom.current().nextLong(1L << 20, MOD - 1);
        int maxLength = 0;
        int count = 0;
        for (int[] p : pieces) {
            if (p != null) {
                maxLength = Math.max(maxLength, p.length);
                count++;
            }
        }
        powers = new long[maxLength + 1];
        powers[0] = 1;
        for (int k = 1; k <= maxLength; k++) {
            powers[k] = mulMod(powers[k - 1], base);
        }
        lengths = new boolean[maxLength + 1];
        int capacity = Integer.highestOneBit(Math.max(4, count) * 2 - 1) << 1; // load factor <= 0.5
        hashes = new long[capacity];
        lens = new int[capacity];
        ids = new int[capacity];
        Arrays.fill(ids, -1);
        mask = capacity - 1;
        for (int id = 0; id < pieces.length; id++) {
            int[] p = pieces[id];
            if (p != null) {
                long[] h = prefixHashes(p);
                lengths[p.length] = true;
                put(h[p.length], p.length, id);
            }
        }
    }

    /** h[k] = hash of cps[0, k). */
    long[] prefixHashes(int[] cps) {
        long[] h = new long[cps.length + 1];
        for (int i = 0; i < cps.length; i++) {
            h[i + 1] = addMod(mulMod(h[i], base), cps[i] + 1L);
        }
        return h;
    }

    /** The id of the piece equal to cps[from, to), whose prefix hashes are {@code h}, or -1. */
    int find(long[] h, int from, int to) {
        int n = to - from;
        if (n >= lengths.length || !lengths[n]) {
            return -1;
        }
        long hash = addMod(h[to], MOD - mulMod(h[from], powers[n]));
        for (int i = slot(hash, n); ids[i] >= 0; i = (i + 1) & mask) {
            if (hashes[i] == hash && lens[i] == n) {
                return ids[i];
            }
        }
        return -1;
    }

    private void put(long hash, int n, int id) {
        int i = slot(hash, n);
        while (ids[i] >= 0) {
            if (hashes[i] == hash && lens[i] == n) {
                return;
            }
            i = (i + 1) & mask;
        }
        hashes[i] = hash;
        lens[i] = n;
        ids[i] = id;
    }

    private int slot(long hash, int n) {
        long k = (hash ^ ((long) n << 40)) * 0x9E37_79B9_7F4A_7C15L;
        return (int) (k >>> 32) & mask;
    }

    private static long mulMod(long a, long b) {
        // a, b < 2^61: the 122-bit product split at bit 61, using 2^61 = 1 (mod 2^61 - 1)
        long lo = a * b;
        long hi = Math.multiplyHigh(a, b);
        long low61 = lo & MOD;
        long high = (lo >>> 61) | (hi << 3);
        return addMod(low61, high);
    }

    private static long addMod(long a, long b) {
        long s = a + b; // both < 2^61: no overflow
        return s >= MOD ? s - MOD : s;
    }
}
