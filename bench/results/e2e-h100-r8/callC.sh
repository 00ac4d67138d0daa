#!/usr/bin/env bash
# session 8 final call: GPU tests of the final kernels, A/B of the norm prologue and of the decode chunk, ours vs
# llama.cpp Q8_0 in the same call, then ncu of the decode attention and the norm GEMVs at a 512-token cache
set -o pipefail
cp tools/gpu/e2e-bench.sh .gpu/e2e-bench.sh
STEPS=junit T_JUNIT=300 JUNIT_CLASSES="AttentionKernelsGpuTest CudaDecoderGpuTest DecodeGemvGpuTest ArgmaxGpuTest Ref27MGpuTest" bash .gpu/e2e-bench.sh 2>&1 | tail -4
grep -E "✘" "$OUT/junit.log" | head -20
grep -E "^\[attention\]|^\[decoder\]" "$OUT/junit.log" | head -30
STEPS=fq6s BATCHES=1 VARIANTS="default cuda.normPrologue=false default cuda.normPrologue=false cuda.attentionFence=sc default cuda.attentionFence=sc cuda.decodeChunk=48 cuda.decodeChunk=64 default cuda.timingSkip=attention" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
STEPS=fq6s BATCHES=8,32 VARIANTS="default" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
for i in $(seq 1 60); do [ -x /tmp/lb/bin/llama-bench ] && [ -x /tmp/lb/bin/llama-quantize ] && break; sleep 5; done; tail -1 /tmp/llama-build.log
W=/tmp/e2e; mkdir -p $W
for i in $(seq 1 40); do [ -f $W/m-f16.gguf ] && break; sleep 5; done
[ -f $W/m-q8_0.gguf ] || /tmp/lb/bin/llama-quantize $W/m-f16.gguf $W/m-q8_0.gguf Q8_0 > "$OUT/llama-quantize.log" 2>&1
/tmp/lb/bin/llama-bench -m $W/m-q8_0.gguf -ngl 99 -p 512 -n 128 -o md 2>&1 | tee "$OUT/llama-bench.log" | grep -E "^\| llama"
STEPS=fq6s BATCHES=1 VARIANTS="default" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^\| FQ6|rror"
date -u
STEPS=ncu NCU_CACHE=none NCU_PROMPT=512 T_NCU=120 NCU_SPECS="dec_attention_hd128@64@3 dec_qkv_rope_norm_gemv|dec_norm_gemv|dec_resid_gemv|dec_swiglu@96@6" bash .gpu/e2e-bench.sh 2>&1 | grep -E "^  [a-z_]|Duration|DRAM Throughput" | head -60
date -u
cd "$OUT" && tar czf /tmp/all-logs.tgz . && rm -rf "$OUT"/* && mv /tmp/all-logs.tgz "$OUT/all-logs.tgz"
