#!/usr/bin/env bash
# session 12, call A (no carry): issue 10.
#  1. where the round-1 kernels lose their time at the 8B gate+up shape: hopper-diag.sh (builds the harness and three
#     diagnostic builds, times them: no epilogue arithmetic / no wait on memory; the last two were removed after
#     this run, hopper-gemm-h100.md round 3, so hopper-diag.sh now builds the first only)
#  2. exactness of every wgmma config, now also on the I8 tiles with natural-order activation records (the decoder's
#     weights, no WG copy) against the WG-layout run, bit for bit; the Java program through NVRTC
#  3. ncu --set full with stall reasons and per-SASS stall samples at M = 4096.
T0=$(date +%s)
OUT=$OUT bash tools/gpu/hopper-diag.sh 2>&1 | tail -40
W=/tmp/hopper-build; B=$W/hopper_test; K=kernels/src/main/resources/io/flexq/kernels
echo "== test ($(( $(date +%s) - T0 )) s)"
timeout 150 $B test $($B list) > $OUT/test-all.log 2>&1; echo "test rc=$?"
grep -E "^TEST|natural-order" $OUT/test-all.log | sort | uniq -c | sort -rn | head -40
grep -E "FAIL" $OUT/test-all.log | head -5 | cut -c1-300
{ cat $K/flexq.cu; echo; cat $K/decoder.cu; echo; cat $K/hopper.cu; } > $W/program.cu
timeout 120 $B nvrtc $W/program.cu sm_90a 2>&1 | tail -3
echo "== ncu ($(( $(date +%s) - T0 )) s)"
OUT=$OUT bash tools/gpu/hopper-ncu.sh 2>&1 | tail -120
