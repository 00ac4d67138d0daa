package io.flexq.runtime.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from a pair of token ids to an int, used by both BPE variants to find
 * "what do these two adjacent symbols merge into" without building strings in the hot loop.
 * Key = (left << 32) | right; absent pairs read as -1. Built once, then read-only (safe to share).
 */
final class PairTable {

    private static final long EMPTY = -1L; // no valid pair has left = right = -1

    private final long[] keys;
    private final int[] values;
    private final int mask;
    private final int shift;
    private int size;

    PairTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1; // load factor <= 0.5
        keys = new long[capacity];
        values = new int[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFF_FFFFL);
    }

    /** Stores a value for the pair unless one is there already; returns whether it was stored. */
    boolean putIfAbsent(int left, int right, int value) {
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("PairTable sized for fewer pairs than were added");
        }
        long k = key(left, right);
        int i = slot(k);
        while (keys[i] != EMPTY) {
            if (keys[i] == k) {
                return false;
            }
            i = (i + 1) & mask;
        }
        keys[i] = k;
        values[i] = value;
        size++;
        return true;
    }

    int get(int left, int right) {
        long k = key(left, right);
        int i = slot(k);
        long found;
        while ((found = keys[i]) != EMPTY) {
            if (found == k) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    int size() {
        return size;
    }

    private int slot(long k) {
        long h = k * 0x9E37_79B9_7F4A_7C15L; // Fibonacci hashing: the top log2(capacity) bits of k * 2^64/phi
        return (int) (h >>> shift);
    }
}
