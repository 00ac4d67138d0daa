#!/usr/bin/env bash
# session 8 last call: GPU tests, A/B of the norm prologue (all / qkv / none), b8 and b32, llama.cpp Q8_0 in the same call
set -o pipefail
cp tools/gpu/e2e-bench.sh .gpu/e2e-bench.sh
STEPS=junit T_JUNIT=200 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest" bash .gpu/e2e-bench.sh 2>&1 | tail -3
grep -E "✘" "$OUT/junit.log" | head -20
grep -E "^\[attention\]|^\[decoder\]" "$OUT/junit.log" | head -30
STEPS=fq6s BATCHES=1 VARIANTS="cuda.normPrologue=all cuda.normPrologue=qkv cuda.normPrologue=none cuda.normPrologue=all cuda.normPrologue=qkv cuda.normPrologue=none" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=fq6s BATCHES=8,32 VARIANTS="default" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
for i in $(seq 1 60); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && break; sleep 5; done; tail -1 /tmp/llama-build.log
W=/tmp/e2e; mkdir -p $W
for i in $(seq 1 40); do [ -f $W/m-f16.gguf ] && break; sleep 5; done
[ -f $W/m-q8_0.gguf ] || /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-q8_0.gguf Q8_0 > "$OUT/llama-quantize.log" 2>&1
/tmp/lb/bin/llama-bench -m $W/m-q8_0.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench.log" | grep -E "^\| llama"
STEPS=fq6s BATCHES=1 VARIANTS="cuda.normPrologue=all cuda.normPrologue=qkv cuda.normPrologue=none" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
