package io.flexq.runtime.tokenizer;

import java.util.Arrays;

/**
 * A binary min-heap of packed long keys: the candidate merges of one BPE run. Each key packs
 * (priority << 32) | leftSymbolIndex, so the smallest key is the best merge and, among equal
 * priorities, the leftmost one: the order SentencePiece, Hugging Face tokenizers and llama.cpp all use.
 * Entries go stale when a neighbour merges first; the caller re-validates each popped key.
 */
final class MergeQueue {

    private long[] heap;
    private int size;

    MergeQueue(int capacity) {
        heap = new long[Math.max(16, capacity)];
    }

    static long key(int priority, int left) {
        return ((long) priority << 32) | (left & 0xFFFF_FFFFL);
    }

    static int priority(long key) {
        return (int) (key >> 32);
    }

    static int left(long key) {
        return (int) key;
    }

    void clear() {
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void push(long key) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            long p = heap[parent];
            if (p <= key) {
                break;
            }
            heap[i] = p;
            i = parent;
        }
        heap[i] = key;
    }

    long pop() {
        long top = heap[0];
        long last = heap[--size];
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            long c = heap[child];
            int right = child + 1;
            if (right < size && heap[right] < c) {
                child = right;
                c = heap[right];
            }
            if (last <= c) {
                break;
            }
            heap[i] = c;
            i = child;
        }
        if (size > 0) {
            heap[i] = last;
        }
        return top;
    }
}
