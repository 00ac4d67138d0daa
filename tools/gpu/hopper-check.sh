#!/usr/bin/env bash
# Hopper wgmma GEMM (kernels/.../hopper.cu) on a GPU host: H100/H200, CUDA 13 nvcc, no network, no Java.
# From the repository root:   OUT=/tmp/hopper tools/gpu/hopper-check.sh
# Steps (each continues past a failure of the one before, and each is time-limited; ~3 minutes in all):
#   1. build kernels/src/test/cuda/hopper_test.cu (compile errors are printed); ptxas register/spill lines
#   2. SASS: wgmma (GMMA) instruction count per kernel (cuobjdump), proof the wgmma path is what runs
#   3. NVRTC builds of the Java program (flexq.cu + decoder.cu + hopper.cu) for sm_90a (module load + names) and sm_80
#   4. exactness of every configuration (one process; rerun one per process if that run dies); the layout models
#      (host) and the probes (one wgmma per k-step: register A, then smem A as the `_su` kernels) first
#   5. benchmark of the configurations that passed, vs cuBLAS FP16 / INT8 and the flexq.cu INT8-MMA kernels; per
#      shape two processes (the `_su` smem-unpack configs, then the others), so a fault in one set keeps the other's rows
#   6. (time permitting) ncu figures of the wgmma 128x128 `_sur`, `_su` and register-A kernels
# Env: OUT (logs, CSV, tables; small), WORK (build products, default /tmp/hopper-build), CONFIGS (default: all), SHAPES
# (default: all six), HOPPER_MS (default 16,...,4096), NO_NCU=1, T_TEST_ALL / T_TEST / T_BENCH (per-process limits, s).
# ~5 minutes in all with every shape; SHAPES="8B-gateup 70B-gateup" for the issue's gate.
set -u
source "$(dirname "$0")/hopper-env.sh" /tmp/hopper-out
K=$ROOT/kernels/src/main/resources/io/flexq/kernels
B=$W/hopper_test
echo "== hopper-check $(date -u +%FT%TZ) on $(nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,driver_version --format=csv,noheader 2>&1 | head -1); $(nvcc --version | tail -1)"
git -C "$ROOT" log --oneline -1 2>/dev/null | sed 's/^/   commit /'

echo "== 1. build ($(el) s)"
( cd "$T" && nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off -Xptxas -v -cudart static \
    -o "$B" hopper_test.cu -ldl -lpthread ) > "$OUT/build.log" 2>&1
if [ ! -x "$B" ]; then
  echo "BUILD FAILED:"; grep -E "error|Error" "$OUT/build.log" | head -40; tail -5 "$OUT/build.log"
  # the kernel program alone, as the Java side compiles it, so a harness-only error is told apart
  { cat "$K/flexq.cu"; echo; cat "$K/decoder.cu"; echo; cat "$K/hopper.cu"; } > "$W/program.cu"
  for a in sm_90a sm_80; do
    nvcc -cubin -std=c++17 -arch=$a -o "$W/program-$a.cubin" "$W/program.cu" > "$OUT/program-$a.log" 2>&1
    echo "   kernel program alone, nvcc $a: rc=$?"; grep -E "error" "$OUT/program-$a.log" | head -10
  done
  exit 1
fi
# ptxas -v: registers and spills of the production wgmma entry points (not _p / _f16 / _bf16)
python3 - "$OUT/build.log" <<'PY'
import re, sys
f = None; spill = ""; seen = []
for line in open(sys.argv[1]):
    m = re.search(r"Compiling entry function '(\w+)'", line)
    if m: f = m.group(1); continue
    m = re.search(r"(\d+) bytes spill stores", line)
    if m: spill = m.group(1); continue
    m = re.search(r"Used (\d+) registers", line)
    if m and f and f.startswith("flexq_wg_") and not re.search(r"_(p|f16|bf16)$", f):
        seen.append("%s %s regs%s" % (f[9:], m.group(1), ", %s B spilled" % spill if spill not in ("", "0") else ""))
print("   ptxas, production wgmma kernels: " + "; ".join(seen))
PY
grep -i "potential performance loss\|wgmma.*serializ" "$OUT/build.log" | sort -u | head -5

echo "== 2. SASS ($(el) s)"
if command -v cuobjdump > /dev/null; then
  cuobjdump -sass "$B" > "$W/sass.txt" 2>&1
  python3 - "$W/sass.txt" <<'PY'
import re, sys, collections
f = None; n = collections.Counter(); stl = collections.Counter(); ops = collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r"Function : (\w+)", line)
    if m: f = m.group(1); continue
    if f is None: continue
    m = re.search(r"\b([A-Z]*GMMA[.\w]*)", line)
    if m: n[f] += 1; ops[m.group(1)] += 1
    if re.search(r"\bSTL\b", line): stl[f] += 1
wg = sorted(f for f in set(n) | set(stl) if f.startswith("flexq_wg_") and not re.search(r"_(f16|bf16)$", f))
print("   GMMA instructions per kernel (STL spills): " + "; ".join("%s %d (%d)" % (f[9:], n[f], stl[f]) for f in wg))
print("   GMMA opcodes: " + ", ".join("%s x%d" % kv for kv in ops.most_common(6)))
PY
else
  echo "   cuobjdump not found"
fi

echo "== 3. NVRTC ($(el) s)"
{ cat "$K/flexq.cu"; echo; cat "$K/decoder.cu"; echo; cat "$K/hopper.cu"; } > "$W/program.cu"
( timeout 120 "$B" nvrtc "$W/program.cu" sm_90a > "$OUT/nvrtc90.log" 2>&1; echo "rc=$?" >> "$OUT/nvrtc90.log" ) &
( timeout 120 "$B" nvrtc "$W/program.cu" sm_80 > "$OUT/nvrtc80.log" 2>&1; echo "rc=$?" >> "$OUT/nvrtc80.log" ) &
NVRTC_JOBS=$(jobs -p)

echo "== 4. exactness ($(el) s)"
python3 "$T/wg_layout_model.py" 2>&1 | sed 's/^/   /'
timeout 20 "$B" probe > "$OUT/probe.log" 2>&1; echo "   probe (one wgmma per k-step, no pipeline) rc=$?:"
grep -E "PROBE|CUDA-ERROR" "$OUT/probe.log" | sed 's/^/      /' 
CONFIGS=${CONFIGS:-$("$B" list)}
PASSED=""
# one set of configs in one process (each case's reference computed once); if that run dies (fault, watchdog trap,
# timeout), the set's configs are rerun one process each, so the failing one is named and the others still count.
# Two sets: the `_su` smem-unpack configs, then the others, so a fault in one set costs the other nothing.
test_set() {  # $1: label, rest: configs
  local tag=$1; shift
  [ $# -eq 0 ] && return
  timeout ${T_TEST_ALL:-90} "$B" test "$@" > "$OUT/test-all-$tag.log" 2>&1
  local rc=$?
  echo "   joint run [$tag] rc=$rc$([ $rc -eq 124 ] && echo ' (timeout)') ($(el) s)"
  if [ $rc -le 1 ]; then
    for c in "$@"; do
      line=$(grep "^TEST $c:" "$OUT/test-all-$tag.log" | tail -1)
      echo "   $line"
      grep -E "^  $c +A.*(FAIL|NO)" "$OUT/test-all-$tag.log" | head -2 | cut -c1-300 | sed 's/^ */      /'
      grep -E "^  $c +A" "$OUT/test-all-$tag.log" | grep -o "max err/bound [0-9.]*" | sort -k3 -n | tail -1 | sed 's/^/      worst /'
      echo "$line" | grep -q " 0 failed" && PASSED="$PASSED $c"
    done
  else
    grep -E "CUDA-ERROR" "$OUT/test-all-$tag.log" | head -2 | sed 's/^/      /'
    local HUNG=0
    for c in "$@"; do
      if [ $HUNG -ge 2 ] || [ "$(el)" -gt 200 ]; then echo "   TEST $c: skipped (two configs hung, or past 200 s)"; continue; fi
      timeout ${T_TEST:-25} "$B" test "$c" > "$OUT/test-$c.log" 2>&1
      rc=$?
      [ $rc -eq 124 ] && HUNG=$((HUNG + 1))
      line=$(grep "^TEST " "$OUT/test-$c.log" | tail -1)
      [ -z "$line" ] && line="TEST $c: no summary (rc=$rc$([ $rc -eq 124 ] && echo ', TIMEOUT: hang?'))"
      echo "   $line ($(el) s)"
      grep -E "FAIL|CUDA-ERROR" "$OUT/test-$c.log" | head -3 | cut -c1-260 | sed 's/^/      /'
      [ $rc -eq 0 ] && PASSED="$PASSED $c"
    done
  fi
}
test_set su $(for c in $CONFIGS; do case $c in *_su*) echo "$c";; esac; done)
test_set other $(for c in $CONFIGS; do case $c in *_su*) ;; *) echo "$c";; esac; done)
wait $NVRTC_JOBS 2>/dev/null
echo "   NVRTC sm_90a: $(grep -E '^NVRTC' "$OUT/nvrtc90.log" | tr '\n' ' ') $(tail -1 "$OUT/nvrtc90.log")"
grep -E "missing|error" "$OUT/nvrtc90.log" | head -10 | sed 's/^/      /'
echo "   NVRTC sm_80:  $(grep -E '^NVRTC' "$OUT/nvrtc80.log" | tr '\n' ' ') $(tail -1 "$OUT/nvrtc80.log")"
grep -E "error" "$OUT/nvrtc80.log" | head -10 | sed 's/^/      /'

echo "== 5. benchmark ($(el) s): configs that passed:${PASSED:- none}"
CSV=$OUT/bench.csv; : > "$CSV"
if [ -n "$PASSED" ]; then
  P_SU=$(for c in $PASSED; do case $c in *_su*) echo -n "$c ";; esac; done)
  P_OTHER=$(for c in $PASSED; do case $c in *_su*) ;; *) echo -n "$c ";; esac; done)
  for s in ${SHAPES:-8B-o 8B-qkv 8B-gateup 8B-down 70B-gateup 70B-down}; do
    if [ "$(el)" -gt 240 ]; then echo "   $s: skipped (past 240 s)"; continue; fi
    # the `_su` set first (without the flexq.cu kernels, which the second process times), then the others
    for set in su other; do
      if [ $set = su ]; then cf=$P_SU; log=$OUT/bench-$s-su.log; nold=1; else cf=$P_OTHER; log=$OUT/bench-$s.log; nold=; fi
      [ -z "$cf" ] && continue
      HOPPER_NO_OLD=$nold timeout ${T_BENCH:-60} "$B" bench "$CSV" "$s" $cf > "$log" 2>&1
      rc=$?
      grep -E "^ROW" "$log" | sed "s/^ROW /   [$set] /"
      [ $rc -ne 0 ] && { echo "   $s [$set]: rc=$rc$([ $rc -eq 124 ] && echo ' (timeout)')"; grep -E "CUDA-ERROR|MISMATCH" "$log" | head -3; }
      grep -q MISMATCH "$log" && grep MISMATCH "$log" | head -3 | sed 's/^/   /'
    done
  done
  echo "   per-config times: $OUT/bench.csv (shape,N,K,M,kernel,us,TOPS,check,device); full lines in $OUT/bench-*.log"
  python3 "$T/hopper_tables.py" "$CSV" > "$OUT/hopper-tables.md" 2>&1 && echo "   markdown tables: $OUT/hopper-tables.md"
  # best wgmma config per (shape, M), as the dispatch table would record it
  awk -F, '$5 ~ /^flexq_wg_/ && $8 !~ /MISMATCH/ { k = $1 " " $4; if (!(k in b) || $6 < b[k]) { b[k] = $6; n[k] = $5 } }
           END { for (k in b) printf "   best %-16s %-22s %9.2f us\n", k, n[k], b[k] }' "$CSV" | sort -k2,2 -k3n > "$OUT/best.txt"
fi

echo "== 6. ncu ($(el) s)"
NCU_K=$(for k in flexq_wg_128x128_sur flexq_wg_128x128_su flexq_wg_128x128; do echo "$PASSED" | grep -qw $k && echo -n "$k "; done)
if [ -z "${NO_NCU:-}" ] && command -v ncu > /dev/null && [ "$(el)" -lt 250 ] && [ -n "$NCU_K" ]; then
  # tensor-pipe metric names differ between ncu versions: take the ones this ncu knows for GH100
  TM=$(ncu --query-metrics --chip gh100 2>/dev/null | awk '{print $1}' \
       | grep -E '^sm__(pipe_tensor[a-z_]*_cycles_active|inst_executed_pipe_tensor[a-z_]*)$' \
       | sed -E 's/_cycles_active$/_cycles_active.avg.pct_of_peak_sustained_active/; s/^(sm__inst_executed_pipe_tensor[a-z_]*)$/\1.sum/' \
       | tr '\n' ',' | sed 's/,$//')
  for k in $NCU_K; do
    [ "$(el)" -gt 270 ] && { echo "   $k: skipped (past 270 s)"; continue; }
    timeout 25 ncu --metrics gpu__time_duration.sum,smsp__inst_executed.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed${TM:+,$TM} \
      -k "regex:^$k\$" -c 1 "$B" one $k 4096 28672 4096 > "$OUT/ncu-$k.log" 2>&1
    echo "   $k (M=4096 N=28672 K=4096): rc=$?"
    grep -E "gpu__time|inst_executed|pipe_tensor|sm__throughput|ERROR|rror" "$OUT/ncu-$k.log" | grep -v " 0$\| 0.00$" | head -12 | sed 's/^ */      /'
  done
else
  echo "   skipped (NO_NCU, no ncu, over time, or flexq_wg_128x128(_su) failed)"
fi
echo "== done in $(el) s; logs in $OUT"
