#!/usr/bin/env bash
# session 11, call F (no carry; warm machine of calls B-E): the exactness run of call E's _su/_sur configs again (its
# log did not come back), then issue 13's 16-core rows call D left out: 8B F16 pair, then the 1B shape.
T0=$(date +%s)
H=/tmp/hopper-build/hopper_test
SU=$($H list | grep -E "_su|_sur" | tr '\n' ' ')
echo "== exactness of: $SU"
timeout 100 $H test $SU > "$OUT/test-su.log" 2>&1; echo "rc=$?"; grep -vE "^\s*$" "$OUT/test-su.log" | tail -25
echo "[$(( $(date +%s) - T0 )) s]"; uptime
OUT=$OUT SHAPES=llama-3.1-8b PROMPT_8B=512 DECODE_8B=16 ROUNDS_8B=2 PAIRS_8B="f16" BUDGET=150 KERNELS=0 bash /tmp/gpu/cpu-vs-llamacpp.sh > /dev/null 2>&1
mv "$OUT/cpu-vs-llamacpp.txt" "$OUT/cpu-16c-8b-f16.txt"; grep -E "^\||\[stage\]|^round" "$OUT/cpu-16c-8b-f16.txt" | tail -12
echo "[$(( $(date +%s) - T0 )) s]"
left=$(( 330 - ($(date +%s) - T0) ))
OUT=$OUT SHAPES=llama-3.2-1b PROMPT=512 ROUNDS_1B=3 BUDGET=$left KERNELS=0 bash /tmp/gpu/cpu-vs-llamacpp.sh > /dev/null 2>&1
mv "$OUT/cpu-vs-llamacpp.txt" "$OUT/cpu-16c-1b.txt"; grep -E "^\||\[stage\]|^round" "$OUT/cpu-16c-1b.txt" | tail -20
echo "[$(( $(date +%s) - T0 )) s]"; uptime
