#!/usr/bin/env python3
"""Dispatch table from the harness benchmark CSV: per (N, K, M, activation bits) the fastest FlexQ kernel
whose spot check passed (exact or bounded). Output: the TSV read by io.flexq.cuda.Dispatcher.
usage: make_dispatch_table.py bench.csv > dispatch-sm90.tsv"""
import csv, sys

best, best_i8 = {}, {}
for r in csv.reader(open(sys.argv[1])):
    if not r or r[0] in ("ceiling",) or r[0].startswith("#") or len(r) < 11:
        continue
    shape, n, k, m, kernel, bits, splits, us, check = r[0], int(r[1]), int(r[2]), int(r[3]), r[4], int(r[5]), int(r[6]), float(r[7]), r[10]
    if not kernel.startswith("flexq_") or check not in ("exact", "bounded") or us != us:
        continue
    key = (n, k, m, bits)
    if key not in best or us < best[key][2]:
        best[key] = (kernel, splits, us, shape)
    if "_i8_" in kernel and (key not in best_i8 or us < best_i8[key][2]):
        best_i8[key] = (kernel, splits, us, shape)
# A bit-plane kernel must win by more than 5% to be chosen: matrices then need the plane layout as
# well as the int8 one (which serves every M), doubling their device memory.
for key, b in best.items():
    if "_i8_" not in b[0] and key in best_i8 and best_i8[key][2] <= 1.05 * b[2]:
        best[key] = best_i8[key]
print("# N\tK\tM\tbits\tkernel\tsplits\tmicros   (fastest exact kernel per shape, from the harness benchmark)")
for (n, k, m, bits), (kernel, splits, us, shape) in sorted(best.items()):
    print(f"{n}\t{k}\t{m}\t{bits}\t{kernel}\t{splits}\t{us:.2f}")
