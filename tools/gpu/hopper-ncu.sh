#!/usr/bin/env bash
# Where the Hopper wgmma GEMM (hopper.cu) loses its time: a full ncu profile of chosen configs at one shape, with the
# warp-state (stall) breakdown and the per-SASS-instruction stall samples, so a kernel change answers a measured cause.
# GPU host (H100/H200, CUDA 13 nvcc + ncu, no Java), from the repository root:
#   OUT=/tmp/out bash tools/gpu/hopper-ncu.sh
# Env: NCU_KERNELS (default "flexq_wg_128x128 flexq_wg_64x128_b2"), NCU_SHAPE ("M N K", default the 8B gate+up at
# M = 4096: "4096 28672 4096"), WORK (build products, default /tmp/hopper-build; a hopper_test built there by
# hopper-check.sh from the same sources is reused). Writes per kernel: ncu-K-details.txt (every section's table),
# ncu-K-stalls.txt (stall reasons summed over the kernel, the hottest SASS lines, the samples per opcode).
set -u
source "$(dirname "$0")/hopper-env.sh" /tmp/hopper-ncu
B=$W/hopper_test
echo "== hopper-ncu $(date -u +%FT%TZ) on $(nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader 2>&1 | head -1)"
if [ ! -x "$B" ] || [ -n "$(find "$T" "$ROOT/kernels/src/main/resources/io/flexq/kernels" -newer "$B" -name '*.cu' 2>/dev/null)" ]; then
  ( cd "$T" && nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -cudart static \
      -o "$B" hopper_test.cu -ldl -lpthread ) > "$OUT/ncu-build.log" 2>&1 || { echo "BUILD FAILED"; tail -20 "$OUT/ncu-build.log"; exit 1; }
  echo "   built ($(el) s)"
fi
read -r M N K <<< "${NCU_SHAPE:-4096 28672 4096}"
for k in ${NCU_KERNELS:-flexq_wg_128x128 flexq_wg_64x128_b2}; do
  rep=$W/ncu-$k
  timeout ${NCU_T:-200} ncu --set full --import-source no -f -o "$rep" -k "regex:^$k\$" -c 1 "$B" one "$k" "$M" "$N" "$K" \
    > "$OUT/ncu-$k-run.log" 2>&1
  echo "   $k (M=$M N=$N K=$K): ncu rc=$? ($(el) s)"
  [ -f "$rep.ncu-rep" ] || { tail -5 "$OUT/ncu-$k-run.log"; continue; }
  ncu -i "$rep.ncu-rep" --page details > "$OUT/ncu-$k-details.txt" 2>&1
  ncu -i "$rep.ncu-rep" --page source --print-source sass --csv > "$W/sass-$k.csv" 2> "$OUT/ncu-$k-sass.err"
  grep -E "Duration|Compute \(SM\) Throughput|Memory Throughput|L1/TEX Hit|L2 Hit|Issue Slots Busy|Issued Ipc|No Eligible|Active Warps Per|Eligible Warps|Warp Cycles Per Issued|Registers Per|Shared Memory Config|Achieved Occupancy|L2 Cache Throughput|DRAM Throughput|Executed Ipc" \
    "$OUT/ncu-$k-details.txt" | sed 's/^ */      /' | head -30
  python3 - "$W/sass-$k.csv" > "$OUT/ncu-$k-stalls.txt" 2>&1 <<'PY'
import csv, sys, collections, re
rows = list(csv.reader(open(sys.argv[1], errors="replace")))
hdr_i = next((i for i, r in enumerate(rows) if any("Source" == c.strip() for c in r)), None)
if hdr_i is None:
    print("no SASS table (header with 'Source' not found); first lines:"); [print(r) for r in rows[:5]]; sys.exit(0)
hdr = rows[hdr_i]; body = [r for r in rows[hdr_i + 1:] if len(r) == len(hdr)]
def num(x):
    try: return float(x.replace(",", ""))
    except ValueError: return 0.0
src = hdr.index(next(c for c in hdr if c.strip() == "Source"))
allc = next((i for i, c in enumerate(hdr) if "Sampling" in c and "All" in c), None)
if allc is None: allc = next((i for i, c in enumerate(hdr) if "Sampl" in c), None)
stallc = [i for i, c in enumerate(hdr) if re.search(r"stall", c, re.I) and "Sampl" not in c]
print("columns:", " | ".join(c.strip() for c in hdr))
tot = sum(num(r[allc]) for r in body) if allc is not None else 0
print("\nstall samples, all:", tot)
sums = collections.Counter({hdr[i].strip(): sum(num(r[i]) for r in body) for i in stallc})
print("by reason (sum over instructions):")
for name, v in sums.most_common(20): print("  %-60s %12.0f" % (name, v))
if allc is not None:
    byop = collections.Counter()
    for r in body:
        op = r[src].strip().split()
        op = [t for t in op if not t.startswith("@")]
        byop[op[0].split(".")[0] if op else "?"] += num(r[allc])
    print("\nsamples per opcode:")
    for op, v in byop.most_common(25): print("  %-12s %10.0f  %5.1f%%" % (op, v, 100 * v / max(tot, 1)))
    print("\nhottest 45 instructions (samples, top reasons):")
    for r in sorted(body, key=lambda r: -num(r[allc]))[:45]:
        reasons = sorted(((num(r[i]), hdr[i].strip()) for i in stallc), reverse=True)[:3]
        print("  %8.0f  %-70s %s" % (num(r[allc]), r[src].strip()[:70], "; ".join("%s %.0f" % (n, v) for v, n in reasons if v > 0)))
PY
  head -40 "$OUT/ncu-$k-stalls.txt" | sed 's/^/      /'
done
echo "== done in $(el) s"
