#!/usr/bin/env bash
# What the epilogue of the round-1 wgmma kernels costs: the harness built again with FLEXQ_HOPPER_DIAG=1 (hopper.cu: no
# epilogue arithmetic), timed beside the real kernels on one shape (and flag variants, DIAG_BUILDS). The diagnostic outputs are wrong by design (their check column says so); only their
# times are read. GPU host, from the repository root:   OUT=/tmp/out bash tools/gpu/hopper-diag.sh
# Env: DIAG_SHAPE (default 8B-gateup), DIAG_MS (default 256,1024,4096), DIAG_CONFIGS (default the three configs of
# hopper.cu's diagnostics list), WORK (default /tmp/hopper-build; the real harness there is reused when current).
set -u
source "$(dirname "$0")/hopper-env.sh" /tmp/hopper-diag
build() {  # $1: binary, $2: extra flags
  ( cd "$T" && nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xcompiler -ffp-contract=off $2 -cudart static \
      -o "$1" hopper_test.cu -ldl -lpthread ) > "$1.log" 2>&1 || { echo "   build $1 FAILED"; grep -m5 error "$1.log"; }
}
B=$W/hopper_test
fresh() { [ -x "$1" ] && [ -z "$(find "$T" "$ROOT/kernels/src/main/resources/io/flexq/kernels" -newer "$1" -name '*.cu' 2>/dev/null)" ]; }
# DIAG_BUILDS: "name=flags;..." (FLEXQ_HOPPER_DIAG=4 builds the diagnostics' config list with the real kernels, for flag
# variants such as FLEXQ_HOPPER_NO_WATCHDOG)
BUILDS=${DIAG_BUILDS:-"diag1=-DFLEXQ_HOPPER_DIAG=1"}
fresh "$B" || build "$B" "" &
NAMES=""
IFS=';' read -ra BL <<< "$BUILDS"
for b in "${BL[@]}"; do
  n=${b%%=*}; f=${b#*=}; NAMES="$NAMES $n"
  # a variant's flags are part of its binary's name in the log only: rebuild whenever asked
  build "$W/hopper_$n" "$f" &
done
wait
echo "== hopper-diag: built ($(el) s): real$NAMES"
CF=${DIAG_CONFIGS:-flexq_wg_128x128 flexq_wg_64x128_b2 flexq_wg_128x64_db}
for round in ${DIAG_ROUNDS:-1}; do
for n in real $NAMES; do
  bin=hopper_$n; [ $n = real ] && bin=hopper_test
  [ -x "$W/$bin" ] || continue
  csv=$OUT/diag-$n-r$round.csv; : > "$csv"
  HOPPER_NO_OLD=1 HOPPER_MS=${DIAG_MS:-256,1024,4096} timeout 120 "$W/$bin" bench "$csv" "${DIAG_SHAPE:-8B-gateup}" $CF > "$OUT/diag-$n-r$round.log" 2>&1
  echo "   $n round $round rc=$? ($(el) s)"
  awk -F, '$5 !~ /persist/ {printf "      %-8s M=%-5s %-26s %10.1f us %8.1f TOPS\n", "'"$n"'", $4, $5, $6, $7}' "$csv"
done
done
echo "== done in $(el) s"
