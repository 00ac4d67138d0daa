#!/usr/bin/env python3
"""Writes the wgmma dispatch rows (kernels/src/main/resources/io/flexq/cuda/dispatch-sm90-wg.tsv) from hopper-check.sh
benchmark logs: per shape and M, the fastest wgmma config launched on the full grid (the Java host's launch; `@persist`
timings are left out) against the fastest flexq.cu INT8-MMA kernel of the same process (the ROW line's "old"). A row
names the wgmma config where it won, and `none` where the INT8-MMA kernel won (the Dispatcher then keeps the I8 table).
Usage: python3 tools/gpu/wg_dispatch_table.py LOG... > dispatch-sm90-wg.tsv"""
import re, sys

SHAPES = {"8B-o": (4096, 4096), "8B-qkv": (6144, 4096), "8B-gateup": (28672, 4096), "8B-down": (4096, 14336),
          "70B-gateup": (57344, 8192), "70B-down": (8192, 28672)}
best, old, src = {}, {}, {}
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r"\s+(\S+)\s+M=(\d+)\s+(flexq_wg_\w+)\s+([\d.]+) us", line)
        if m and m.group(1) in SHAPES and "_su" not in m.group(3):
            key = (m.group(1), int(m.group(2)))
            if key not in best or float(m.group(4)) < best[key][1]:
                best[key] = (m.group(3), float(m.group(4)))
            src[key] = path
            continue
        m = re.match(r"ROW (\S+)\s+M=(\d+)\s.*\| old\s+([\d.]+) (\S+)", line)
        if m and m.group(1) in SHAPES:
            old[(m.group(1), int(m.group(2)))] = (m.group(4), float(m.group(3)))
print("# N\tK\tM\tbits\tkernel\tsplits\tmicros   (wgmma on the I8 tiles with natural-order records: the fastest full-grid")
print("# config per shape and M where it beat every flexq.cu INT8-MMA kernel of the same process, else `none` with that")
print("# kernel's time; written by tools/gpu/wg_dispatch_table.py from " + ", ".join(sorted(set(src.values()))) + ")")
for key in sorted(best, key=lambda k: (SHAPES[k[0]], k[1])):
    n, k = SHAPES[key[0]]
    name, us = best[key]
    if key in old and old[key][1] <= us:
        print("%d\t%d\t%d\t0\tnone\t1\t%.2f\t# %s %.2f us" % (n, k, key[1], old[key][1], name, us))
    else:
        print("%d\t%d\t%d\t0\t%s\t1\t%.2f\t# %s %s" % (n, k, key[1], name, us, *(("old", "%s %.2f us" % old[key]) if key in old else ("old", "not run"))))
