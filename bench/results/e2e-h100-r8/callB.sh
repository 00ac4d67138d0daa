#!/usr/bin/env bash
# session 8 call B: tests (new merge, the 27M model on the final CPU code), knock-out profile of the step, merge A/B,
# then llama.cpp Q8_0 in the same call
set -o pipefail
cp tools/gpu/e2e-bench.sh .gpu/e2e-bench.sh
STEPS=junit T_JUNIT=400 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest DecodeGemvGpuTest ArgmaxGpuTest Ref27MGpuTest" bash .gpu/e2e-bench.sh 2>&1 | tail -8
grep -E "✘" "$OUT/junit.log" | head -20
grep -E "^\[attention\]|^\[decoder\]|^\[ref27m|KLD|greedy" "$OUT/junit.log" | head -30
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.fastMerge=false default cuda.fastMerge=false cuda.l2Ahead=8 cuda.l2Ahead=16 cuda.l2Ahead=24 default cuda.timingSkip=attention cuda.timingSkip=norm cuda.timingSkip=swiglu cuda.timingSkip=qkv cuda.timingSkip=o cuda.timingSkip=gateup cuda.timingSkip=down cuda.timingSkip=head cuda.decodeChunk=16 default" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
for i in $(seq 1 60); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && break; sleep 5; done; tail -1 /tmp/llama-build.log
W=/tmp/e2e; mkdir -p $W
for i in $(seq 1 40); do [ -f $W/m-f16.gguf ] && break; sleep 5; done
[ -f $W/m-q8_0.gguf ] || /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-q8_0.gguf Q8_0 > "$OUT/llama-quantize.log" 2>&1
/tmp/lb/bin/llama-bench -m $W/m-q8_0.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench.log" | grep -E "^\| llama"
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
