#!/usr/bin/env python3
"""Host model of hopper.cu's operand layouts (no GPU): builds one WG weight tile with flexq_repack_wg's formula,
unpacks it as the consumer does into the wgmma A fragment (CUTLASS-documented m64nNk32 8-bit register layout:
row 16w + gid + 8 (r & 1), k 4 tig + b + 16 (r >> 1) for register r), reads the activation record as the 128-byte
swizzled K-major B operand (k-step j = record bytes 32j .. 32j+31), and checks that the four k-steps give
4 * sum_k w[r][k] x[t][k] for random codes; main_su does the same for the `_su` kernels (int8 weight tile in shared memory, both
operands through the descriptor address model). usage: wg_layout_model.py  (exit 1 on a mismatch)"""
import random
import sys


def kperm(p):  # group position held at activation record byte p (flexq.cu's int8 record)
    return ((p >> 3) & 3) * 32 + ((p >> 2) & 1) * 16 + (p >> 5) * 4 + (p & 3)


def s8(word, b):
    v = (word >> (8 * b)) & 0xFF
    return v - 256 if v >= 128 else v


def main(seed=1):
    rnd = random.Random(seed)
    W = [[rnd.randint(-32, 31) for _ in range(128)] for _ in range(16)]   # one 16-row tile, one group
    X = [[rnd.randint(-128, 127) for _ in range(128)] for _ in range(8)]  # 8 tokens
    rec = [[X[t][kperm(p)] for p in range(128)] for t in range(8)]        # record bytes
    words = {}
    for lane in range(32):  # flexq_repack_wg
        gid, tig = lane >> 2, lane & 3
        for j in range(4):
            t = [0] * 4
            for n in range(4):
                for b in range(4):
                    c = W[gid + 8 * (n & 1)][kperm(32 * j + 16 * (n >> 1) + tig * 4 + b)]
                    t[n] |= ((c * 4) & 0xFF) << (8 * b)
            for m in range(3):
                words[lane, 3 * j + m] = t[m] | ((t[3] >> (2 * m + 2)) & 0x03030303)
    D = [[0] * 8 for _ in range(16)]
    for j in range(4):
        A = [[0] * 32 for _ in range(16)]
        for lane in range(32):  # consumer unpack -> A fragment
            gid, tig = lane >> 2, lane & 3
            s0, s1, s2 = (words[lane, 3 * j + m] for m in range(3))
            a = [s0 & 0xFCFCFCFC, s1 & 0xFCFCFCFC, s2 & 0xFCFCFCFC,
                 ((s0 & 0x03030303) << 2) | ((s1 & 0x03030303) << 4) | ((s2 & 0x03030303) << 6)]
            for r in range(4):
                for b in range(4):
                    A[gid + 8 * (r & 1)][4 * tig + b + 16 * (r >> 1)] = s8(a[r], b)
        for m in range(16):
            for n in range(8):
                D[m][n] += sum(A[m][q] * rec[n][32 * j + q] for q in range(32))
    bad = sum(D[m][n] != 4 * sum(W[m][k] * X[n][k] for k in range(128)) for m in range(16) for n in range(8))
    print("WG layout model: %s (%d of 128 outputs differ)" % ("ok" if bad == 0 else "FAIL", bad))
    return 1 if bad else 0


def sw128(addr):
    """128-byte swizzle as the hardware applies it to a descriptor-generated address: bits 4-6 ^= bits 7-9."""
    return addr ^ (((addr >> 7) & 7) << 4)


def desc_read(smem, start, m, q):
    """byte q (0..31) of row m of the K-major operand whose descriptor has this start address (SBO 1024, 128-byte
    swizzle, base offset 0): unswizzled address start + (m >> 3) * SBO + (m & 7) * 128 + q, then the swizzle."""
    return smem[sw128(start + (m >> 3) * 1024 + (m & 7) * 128 + q)]


def main_su(seed=2):
    """hopper.cu's `_su` path: flexq_repack_wg words of four 16-row tiles (64 rows, one wgmma M), unpacked by
    hs_unpack_tile's address formula into the int8 tile, activation records stored as the producer's cp.async
    does; both operands then read through the descriptor model at start + 32 j for k-step j."""
    rnd = random.Random(seed)
    W = [[rnd.randint(-32, 31) for _ in range(128)] for _ in range(64)]
    X = [[rnd.randint(-128, 127) for _ in range(128)] for _ in range(16)]
    rec = [[X[t][kperm(p)] for p in range(128)] for t in range(16)]
    A_BASE, B_BASE = 0, 8192  # both 1024-aligned, as in the stage layout
    smem = {}
    for t in range(16):  # producer: chunk c of token row t at chunk c ^ (t & 7)
        for c in range(8):
            for b in range(16):
                smem[B_BASE + t * 128 + ((c ^ (t & 7)) << 4) + b] = rec[t][16 * c + b]
    for tl in range(4):
        words = {}
        for lane in range(32):  # flexq_repack_wg for tile tl
            gid, tig = lane >> 2, lane & 3
            for j in range(4):
                t = [0] * 4
                for n in range(4):
                    for b in range(4):
                        c = W[16 * tl + gid + 8 * (n & 1)][kperm(32 * j + 16 * (n >> 1) + tig * 4 + b)]
                        t[n] |= ((c * 4) & 0xFF) << (8 * b)
                for m in range(3):
                    words[lane, 3 * j + m] = t[m] | ((t[3] >> (2 * m + 2)) & 0x03030303)
        for j in range(4):
            banks = {}
            for lane in range(32):  # hs_unpack_tile
                gid, tig = lane >> 2, lane & 3
                s0, s1, s2 = (words[lane, 3 * j + m] for m in range(3))
                vals = [s0 & 0xFCFCFCFC, s1 & 0xFCFCFCFC, s2 & 0xFCFCFCFC,
                        ((s0 & 0x03030303) << 2) | ((s1 & 0x03030303) << 4) | ((s2 & 0x03030303) << 6)]
                row0 = A_BASE + (16 * tl + gid) * 128 + tig * 4
                c0, c1 = ((2 * j) ^ gid) << 4, ((2 * j + 1) ^ gid) << 4
                for n, addr in enumerate((row0 + c0, row0 + 1024 + c0, row0 + c1, row0 + 1024 + c1)):
                    banks.setdefault(n, set()).add((addr >> 2) & 31)
                    for b in range(4):
                        smem[addr + b] = s8(vals[n], b)
            if any(len(v) != 32 for v in banks.values()):
                print("su model: bank conflict in the unpack stores")
                return 1
    bad = 0
    for m in range(64):
        for n in range(16):
            d = 0
            for j in range(4):
                for q in range(32):
                    a = desc_read(smem, A_BASE + 32 * j, m, q)
                    b = desc_read(smem, B_BASE + 32 * j, n, q)
                    d += a * (b - 256 if b >= 128 else b)
            bad += d != 4 * sum(W[m][k] * X[n][k] for k in range(128))
    print("su (smem A) layout + descriptor model: %s (%d of 1024 outputs differ)" % ("ok" if bad == 0 else "FAIL", bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main() | main_su())
