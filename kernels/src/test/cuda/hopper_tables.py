#!/usr/bin/env python3
"""Markdown tables for bench/results/cuda-kernels-h200.md from hopper_test's bench CSV
(shape,N,K,M,kernel,us,TOPS,check,device; written by tools/gpu/hopper-check.sh).
Per shape and M: cuBLAS FP16 and INT8, the best flexq.cu INT8-MMA kernel ("before"), the best wgmma kernel
(exact-epilogue `_x` kernels and FMA-epilogue kernels alike; the name says which) and the speedups.
Only rows whose spot check passed count. usage: hopper_tables.py bench.csv"""
import csv
import sys
from collections import defaultdict

rows = defaultdict(dict)  # (shape, n, k) -> m -> kernel -> us
device = "?"
for r in csv.reader(open(sys.argv[1])):
    if len(r) < 9:
        continue
    shape, n, k, m, kernel, us, _tops, check, device = r[:9]
    if check not in ("baseline", "exact", "bounded"):
        continue
    rows[(shape, int(n), int(k))].setdefault(int(m), {})[kernel] = float(us)

print(f"Device: {device}. Times in µs (CUDA events, median); x = cuBLAS time / wgmma time.\n")
for (shape, n, k), per_m in rows.items():
    print(f"#### {shape}: N={n} K={k}\n")
    print("| M | cuBLAS FP16 | cuBLAS INT8 | best mma.sync (before) | best wgmma | wgmma TOPS | x FP16 | x INT8 | x before |")
    print("|---:|---:|---:|---|---|---:|---:|---:|---:|")
    for m in sorted(per_m):
        ks = per_m[m]
        f16, i8 = ks.get("cublas_fp16"), ks.get("cublas_int8")
        old = min(((us, kn) for kn, us in ks.items() if kn.startswith("flexq_gem")), default=None)
        wg = min(((us, kn) for kn, us in ks.items() if kn.startswith("flexq_wg_")), default=None)
        if wg is None:
            continue
        tops = 2.0 * m * n * k / wg[0] / 1e6
        fmt = lambda v: f"{v:.1f}" if v is not None else "-"
        ratio = lambda a: f"{a / wg[0]:.2f}" if a is not None else "-"
        print(f"| {m} | {fmt(f16)} | {fmt(i8)} | {fmt(old[0]) if old else '-'} `{old[1] if old else ''}` | {wg[0]:.1f} `{wg[1]}` | "
              f"{tops:.0f} | {ratio(f16)} | {ratio(i8)} | {ratio(old[0]) if old else '-'} |")
    print()
