#!/usr/bin/env bash
# session 9 call A: GPU tests of the prepared code (prefetchCache, trace, refactored attention test), the attention phase
# trace (profile), prefetchCache A/B, ncu stall reasons of decode attention
set -o pipefail
cp tools/gpu/e2e-bench.sh .gpu/e2e-bench.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader; date -u
STEPS=junit T_JUNIT=200 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest" bash .gpu/e2e-bench.sh 2>&1 | tail -3
grep -E "✘" "$OUT/junit.log" | head -20
STEPS=profile bash .gpu/e2e-bench.sh 2>&1 | grep -vE "^\s*$" | tail -45
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.prefetchCache=true default cuda.prefetchCache=true cuda.timingSkip=attention" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=ncu NCU_CACHE=none NCU_PROMPT=512 NCU_SPECS="dec_attention_hd128@200@2" bash .gpu/e2e-bench.sh 2>&1 | tail -40
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
